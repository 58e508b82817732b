namespace Flamewright.Benchmarks.Server;

/// <summary>The figure these benchmarks report from repeated runs: robust to one run that the machine disturbed.</summary>
internal static class Median
{
    public static double Of(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
