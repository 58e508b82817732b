// Sample values as people read them, by unit: durations scaled to ns/µs/ms/s, bytes to KiB/MiB/…, counts and other
// units as integers with thousands separators. The twin of the engine's ValueFormat.Readable without the exact integer
// it adds after a scaled value (the SVG's tooltips show that); a browser test holds the two equal.

const TIME_UNITS = {
  NANOSECONDS: ['ns', 1], NANOSECOND: ['ns', 1], NS: ['ns', 1],
  MICROSECONDS: ['\u00b5s', 1e3], MICROSECOND: ['\u00b5s', 1e3], US: ['\u00b5s', 1e3],
  MILLISECONDS: ['ms', 1e6], MILLISECOND: ['ms', 1e6], MS: ['ms', 1e6],
  SECONDS: ['s', 1e9], SECOND: ['s', 1e9], S: ['s', 1e9],
};
const SIZES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

const whole = v => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
// At most two decimals, trailing zeros dropped, as .NET's "0.##" writes a double: read to 15 significant digits,
// then rounded half away from zero (1.005 is 1.01 there, where toFixed, working on the exact binary value, says 1.00).
function twoPlaces(x) {
  const [integer, fraction = ''] = Math.abs(x).toPrecision(15).split('.');
  let cents = BigInt(integer) * 100n + BigInt((fraction + '00').slice(0, 2));
  if (fraction.length > 2 && fraction[2] >= '5') cents += 1n;
  const units = cents / 100n;
  const rest = cents % 100n;
  const text = rest === 0n ? String(units) : `${units}.${String(rest).padStart(2, '0').replace(/0$/, '')}`;
  return x < 0 && cents !== 0n ? `-${text}` : text;
}

export function formatValue(value, unit = '') {
  const v = Number(value) + 0; // + 0: a negative zero reads as 0
  const time = TIME_UNITS[String(unit).toUpperCase()];
  if (time) {
    const [unitSymbol, nanosPerUnit] = time;
    const nanos = v * nanosPerUnit;
    const magnitude = Math.abs(nanos);
    const [symbol, divisor] = magnitude >= 1e9 ? ['s', 1e9] : magnitude >= 1e6 ? ['ms', 1e6] : magnitude >= 1e3 ? ['\u00b5s', 1e3] : ['ns', 1];
    return symbol === unitSymbol ? `${whole(v)} ${unitSymbol}` : `${twoPlaces(nanos / divisor)} ${symbol}`;
  }
  if (String(unit).toLowerCase() === 'bytes') {
    let size = v;
    let power = 0;
    while (Math.abs(size) >= 1024 && power < SIZES.length - 1) {
      size /= 1024;
      power++;
    }
    return power === 0 ? `${whole(v)} B` : `${twoPlaces(size)} ${SIZES[power]}`;
  }
  return !unit || String(unit).toLowerCase() === 'count' ? whole(v) : `${whole(v)} ${unit}`;
}
