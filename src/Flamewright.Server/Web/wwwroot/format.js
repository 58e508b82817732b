// Sample values as people read them, by unit: nanoseconds as ms or s, bytes as kB or MB, anything else counted.

const UNIT_FORMATS = {
  nanoseconds: v => (Math.abs(v) >= 1e9 ? `${(v / 1e9).toFixed(2)} s` : `${(v / 1e6).toFixed(2)} ms`),
  bytes: v => (Math.abs(v) >= 1 << 20 ? `${(v / 1048576).toFixed(2)} MB` : `${(v / 1024).toFixed(1)} kB`),
};
export const formatValue = (v, unit) => (UNIT_FORMATS[unit] || (x => `${x} ${unit || 'count'}`))(v);
