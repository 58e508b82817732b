using System.Diagnostics;
using System.Globalization;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// How busy the whole machine was during a measurement, from <c>/proc/stat</c>, so that each figure can say how
/// much CPU other processes took from it: this benchmark shares two cores with whatever else runs.
/// </summary>
internal sealed class MachineLoad
{
    private readonly double _busyAtStart = BusySeconds();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Cores' worth of CPU that processes other than ours used since this was made.</summary>
    /// <param name="ourCpuSeconds">The CPU time our own processes used in the same interval.</param>
    public double OtherCores(double ourCpuSeconds)
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        return seconds <= 0 ? 0 : Math.Max(0, (BusySeconds() - _busyAtStart - ourCpuSeconds) / seconds);
    }

    /// <summary>Busy CPU seconds of every core since boot (user, nice, system, irq, softirq, steal); 0 where unknown.</summary>
    private static double BusySeconds()
    {
        const string Stat = "/proc/stat";
        if (!File.Exists(Stat))
        {
            return 0;
        }

        // "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks of 1/100 s (USER_HZ on Linux).
        string[] fields = File.ReadLines(Stat).First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = 0;
        foreach (int i in (int[])[1, 2, 3, 6, 7, 8])
        {
            busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        return busy / 100.0;
    }
}
