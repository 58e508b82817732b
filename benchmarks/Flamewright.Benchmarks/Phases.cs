using System.Diagnostics;
using System.Globalization;
using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Benchmarks;

/// <summary>A quick look at where one analysis spends its time and memory, phase by phase (not a benchmark).</summary>
internal static class Phases
{
    public static int Run()
    {
        byte[] gzip = File.ReadAllBytes(BenchmarkFiles.LargeProfile);
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            var bench = new AnalysisBenchmarks();
            bench.Setup();
            Report("setup", clock);
            bench.Gunzip();
            Report("gunzip", clock);
            Profile profile = ProfileReader.Read(gzip);
            Report("decode", clock);
            FlameTree tree = FlameTreeBuilder.Build(profile);
            Report($"tree ({tree.Count:N0} nodes)", clock);
            TopTable top = TopTable.Build(profile);
            Report($"top ({top.Entries.Count:N0} rows)", clock);
            Console.WriteLine($"  GCs: gen0 {GC.CollectionCount(0)} gen1 {GC.CollectionCount(1)} gen2 {GC.CollectionCount(2)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB"));
        }

        return 0;
    }

    private static TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>Wall time, and CPU time (which a busy machine disturbs less).</summary>
    private static void Report(string phase, Stopwatch clock)
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {phase,-28} {clock.Elapsed.TotalMilliseconds,8:F0} ms wall {(cpu - _cpu).TotalMilliseconds,8:F0} ms cpu"));
        _cpu = cpu;
        clock.Restart();
    }
}
