using System.Diagnostics;
using System.IO.Compression;
using BenchmarkDotNet.Running;
using Flamewright.Benchmarks;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

// dotnet run -c Release -- generate [stacks]   writes benchmarks/data/large-cpu.pb.gz
// dotnet run -c Release -- compare PATH_TO_FLAMEWRIGHT [runs] [pprof runs]  whole-process timing against go tool pprof
// dotnet run -c Release -- [BenchmarkDotNet arguments]     the in-process benchmarks (e.g. --filter '*')
// dotnet run -c Release -- all PATH_TO_FLAMEWRIGHT          both, in one run (the figures in README.md)
switch (args.FirstOrDefault())
{
    case "generate":
        return Generate(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2_000_000);
    case "all":
        // Everything in one run: the in-process benchmarks, then the whole-process comparison.
        BenchmarkSwitcher.FromAssembly(typeof(AnalysisBenchmarks).Assembly).Run(["--filter", "*"]);
        return ProcessComparison.Run(args[1], 3, 1);
    case "phases":
        return Phases.Run();
    case "compare":
        return ProcessComparison.Run(
            args[1],
            args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3,
            args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1);
    default:
        BenchmarkSwitcher.FromAssembly(typeof(AnalysisBenchmarks).Assembly).Run(args);
        return 0;
}

static int Generate(int stacks)
{
    string path = BenchmarkFiles.LargeProfile;
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    var clock = Stopwatch.StartNew();
    Profile profile = new LargeProfileGenerator().Generate(stacks, Console.WriteLine);
    byte[] raw = ProfileWriter.Encode(profile);
    using (FileStream file = File.Create(path))
    using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
    {
        // gzip's default level, as `go tool pprof -proto` writes; runtime/pprof uses BestSpeed.
        gzip.Write(raw);
    }

    Console.WriteLine($"{path}: {LargeProfileGenerator.Describe(profile, new FileInfo(path).Length, raw.Length)} in {clock.Elapsed.TotalSeconds:F1} s");
    return 0;
}
