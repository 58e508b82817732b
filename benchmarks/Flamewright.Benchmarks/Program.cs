using System.Diagnostics;
using System.IO.Compression;
using BenchmarkDotNet.Running;
using Flamewright.Benchmarks;
using Flamewright.Benchmarks.Server;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

// dotnet run -c Release -- generate [stacks]                 writes benchmarks/data/large-cpu.pb.gz
// dotnet run -c Release -- compare PATH_TO_FLAMEWRIGHT [runs] [pprof runs]   whole-process timing against go tool pprof
// dotnet run -c Release -- [BenchmarkDotNet arguments]       the in-process benchmarks (e.g. --filter '*')
// dotnet run -c Release -- ingest [runs] [rounds]            50 agents upload 1 MiB profiles: the server against a bare gRPC sink
// dotnet run -c Release -- query [warm runs] [pprof runs]    queryPprofAnalyze over 100 uploads against go tool pprof -top
// dotnet run -c Release -- storage [runs] [rounds]           ingest and queryPprofAnalyze on SQLite and PostgreSQL, in one run
// dotnet run -c Release -- load [seconds] [agents] [users] [sqlite|postgresql]   200 agents upload mixed sizes up to 30 MiB while 4 users query; zero-loss audit
// dotnet run -c Release -- all PATH_TO_FLAMEWRIGHT           all of the above, in one run (the figures in README.md)
// (serve DATA_DIR [POSTGRES_CONNECTION_STRING] and serve-sink are the server processes that the server benchmarks start.)
switch (args.FirstOrDefault())
{
    case "generate":
        return Generate(Argument(1, 2_000_000));
    case "all":
        // Everything in one run: the in-process benchmarks, the whole-process comparison, then the server benchmarks.
        BenchmarkSwitcher.FromAssembly(typeof(AnalysisBenchmarks).Assembly).Run(["--filter", "*"]);
        return ProcessComparison.Run(args[1], 3, 1) + await IngestBenchmark.RunAsync(3, 6) + await QueryBenchmark.RunAsync(10, 3)
            + await StorageComparison.RunAsync(3, 6);
    case "phases" when args.ElementAtOrDefault(1) == "page":
        return Phases.RunPage(Argument(2, 4), Argument(3, 300_000));
    case "phases":
        return Phases.Run();
    case "ingest":
        return await IngestBenchmark.RunAsync(Argument(1, 3), Argument(2, 6));
    case "query":
        return await QueryBenchmark.RunAsync(Argument(1, 10), Argument(2, 3));
    case "page":
        return await PageBenchmark.RunAsync(Argument(1, 4), Argument(2, 300_000), Argument(3, 3), Argument(4, 5), args.ElementAtOrDefault(5) == "browser");
    case "load":
        return await LoadBenchmark.RunAsync(Argument(1, 60), Argument(2, 200), Argument(3, LoadBenchmark.DefaultUsers), args.ElementAtOrDefault(4) ?? "sqlite", args.ElementAtOrDefault(5) ?? "page");
    case "storage":
        return await StorageComparison.RunAsync(Argument(1, 3), Argument(2, 6));
    case "serve" or "serve-sink":
        // The server benchmarks' server processes.
        return await MeasuredServer.ServeAsync(args[0], args.ElementAtOrDefault(1), args.ElementAtOrDefault(2));
    case "compare":
        return ProcessComparison.Run(args[1], Argument(2, 3), Argument(3, 1));
    default:
        BenchmarkSwitcher.FromAssembly(typeof(AnalysisBenchmarks).Assembly).Run(args);
        return 0;
}

int Argument(int index, int fallback) =>
    args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;

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
