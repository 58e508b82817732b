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

    /// <summary>
    /// The analysis page's cold request split by phase, in process: decoding each of <paramref name="instances"/>
    /// replicas of the generated service, then merging them into a tree and a top table; three rounds, the first
    /// with the JIT's cost in it.
    /// </summary>
    public static int RunPage(int instances, int stacks)
    {
        var uploads = new byte[instances][];
        for (int i = 0; i < instances; i++)
        {
            uploads[i] = Server.AgentProfiles.AsUploaded(new LargeProfileGenerator().GenerateReplica(stacks, i)).Gzip;
        }

        for (int round = 0; round < 3; round++)
        {
            Console.WriteLine($"round {round + 1}");
            var clock = Stopwatch.StartNew();
            var profiles = new Profile[instances];
            for (int i = 0; i < instances; i++)
            {
                profiles[i] = ProfileReader.Read(uploads[i]);
            }

            Report($"decode {instances} uploads", clock);
            byte[][] digests = [.. profiles.Select(Flamewright.Pprof.Digest.ProfileDigest.Write)];
            Report(string.Create(CultureInfo.InvariantCulture, $"write digests ({digests.Sum(d => (long)d.Length) / 1048576.0:F1} MiB, gzip {uploads.Sum(u => (long)u.Length) / 1048576.0:F1} MiB)"), clock);
            foreach (string source in new[] { "pprof", "digests" })
            {
                Profile[] input = profiles;
                if (source == "digests")
                {
                    input = [.. digests.Select(d => Flamewright.Pprof.Digest.ProfileDigest.Read(d))];
                    Report("read digests", clock);
                    input = [.. digests.Select(d => Flamewright.Pprof.Digest.ProfileDigest.Read(d))];
                    Report("read digests again", clock);
                    profiles = [.. uploads.Select(u => ProfileReader.Read(u))];
                    Report("decode again", clock);
                }

                FlameTree tree = FlameTreeBuilder.Build(input);
                Report($"tree from {source} ({tree.Count:N0} nodes)", clock);
                TopTable top = TopTable.Build(input);
                Report($"top from {source} ({top.Entries.Count:N0} rows)", clock);
                FlameView view = FlameView.Build(tree, [], 1400);
                Report($"view ({view.Frames.Count:N0} frames)", clock);
                Flamewright.Pprof.Digest.FirstLook look = StackView.Build(input, FlameOptions.Default, 1400);
                Report($"first look from stacks ({look.View.Frames.Count:N0} frames)", clock);
                bool same = look.View.Frames.Count == view.Frames.Count
                    && look.View.Frames.Zip(view.Frames).All(p => p.First with { Node = 0 } == p.Second with { Node = 0 })
                    && look.View.Narrower.SequenceEqual(view.Narrower) && look.Top.Entries.SequenceEqual(top.Entries);
                Console.WriteLine($"  same as the tree's: {same}");
                if (source == "digests")
                {
                    Flamewright.Pprof.Digest.FirstLook direct = StackView.Build(
                        [.. digests.Select(d => new StackInput(Flamewright.Pprof.Digest.ProfileDigest.ReadStacks(d)))], FlameOptions.Default, 1400);
                    Report($"first look from the digests' stacks ({direct.View.Frames.Count:N0} frames)", clock);
                    Console.WriteLine($"  same as from the profiles: {direct.View.Frames.SequenceEqual(look.View.Frames) && direct.Top.Entries.SequenceEqual(look.Top.Entries)}");
                }

                look = StackView.Build(input, FlameOptions.Default, 4096);
                Report($"first look at 4,096 px ({look.View.Frames.Count:N0} frames)", clock);
                FlameView.Build(tree, [], 4096);
                Report("tree's view at 4,096 px", clock);
            }
        }

        return 0;
    }

    private static TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private static long _allocated = GC.GetTotalAllocatedBytes(precise: true);

    /// <summary>Wall time, CPU time (which a busy machine disturbs less) and the bytes allocated.</summary>
    private static void Report(string phase, Stopwatch clock)
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {phase,-28} {clock.Elapsed.TotalMilliseconds,8:F0} ms wall {(cpu - _cpu).TotalMilliseconds,8:F0} ms cpu {(allocated - _allocated) / 1048576.0,8:F0} MiB allocated"));
        _cpu = cpu;
        _allocated = allocated;
        clock.Restart();
    }
}
