namespace Flamewright.Pprof.Analysis;

internal static class Magnitude
{
    /// <summary>|value|, saturating: a hostile profile may hold long.MinValue, which Math.Abs throws on.</summary>
    public static long Abs(long value) => value == long.MinValue ? long.MaxValue : Math.Abs(value);
}
