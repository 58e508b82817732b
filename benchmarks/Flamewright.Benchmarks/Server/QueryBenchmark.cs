using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Server.Analysis;
using Flamewright.Server.Configuration;
using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Sqlite;
using Flamewright.Server.Tasks;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// <c>queryPprofAnalyze</c> over one task with <see cref="Instances"/> uploads, asked through <c>POST /graphql</c>
/// of a <c>flamewright server</c> process, against <c>go tool pprof -top</c> on the same files. Cold is the first
/// query after the server process started (JIT, schema, reading and decoding every upload); warm repeats it (the
/// decoded profiles are cached, the tree is built and serialised again each time).
/// </summary>
internal static class QueryBenchmark
{
    /// <summary>Instances of the task, each with one upload: the query target's figure (benchmarks/README.md).</summary>
    public const int Instances = 100;

    /// <summary>Distinct stacks of the generated service; each replica's profile holds most of them.</summary>
    public const int ReplicaStacks = 8_000;

    /// <summary>Fresh server processes started for the cold figure.</summary>
    public const int ColdRuns = 3;

    /// <summary>The target (benchmarks/README.md): queryPprofAnalyze at least this many times faster than go tool pprof -top.</summary>
    public const double Target = 10;

    private const string AnalyzeQuery =
        "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total self } } } }";

    private const string TopQuery =
        "query ($r: PprofAnalyzationRequest!) { queryPprofTop(request: $r, limit: 0) { total rows { name flat flatPercent cum cumPercent } } }";

    /// <summary>One set of uploads: a task of <see cref="Instances"/> instances of <c>Service</c>, instance i uploading <c>Files[i]</c>.</summary>
    internal sealed record Scenario(string Name, string Service, string Description, byte[][] Files);

    /// <summary>The figures of <see cref="ColdAndWarmAsync"/>, in milliseconds; <c>Top</c> is empty unless asked for.</summary>
    internal sealed record AnalyzeTimes(List<double> Cold, List<double> Warm, List<double> Top);

    public static async Task<int> RunAsync(int warmRuns, int pprofRuns)
    {
        warmRuns = Math.Max(1, warmRuns);
        pprofRuns = Math.Max(1, pprofRuns);
        string work = MeasuredServer.NewDataDirectory("query");
        string dataDirectory = Path.Combine(work, "data");
        try
        {
            Scenario[] scenarios = [RealProfileCopies(), GeneratedReplicas()];
            var taskIds = new Dictionary<Scenario, string>();
            using (MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory))
            {
                foreach (Scenario scenario in scenarios)
                {
                    taskIds[scenario] = await UploadAsync(server, scenario);
                }
            }

            foreach (Scenario scenario in scenarios)
            {
                string files = Path.Combine(work, scenario.Name);
                Directory.CreateDirectory(files);
                for (int i = 0; i < scenario.Files.Length; i++)
                {
                    await File.WriteAllBytesAsync(Path.Combine(files, $"instance-{i:D3}.pb.gz"), scenario.Files[i]);
                }

                await MeasureAsync(scenario, taskIds[scenario], dataDirectory, files, warmRuns, pprofRuns);
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The real Go CPU profile of <c>testdata/profiles</c> (runtime/pprof, ~300 samples), once per instance.</summary>
    internal static Scenario RealProfileCopies()
    {
        byte[] cpu = File.ReadAllBytes(Path.Combine(BenchmarkFiles.RepositoryRoot, "testdata", "profiles", "cpu.pb.gz"));
        return new Scenario("testdata-cpu", "query-real", $"testdata/profiles/cpu.pb.gz ({cpu.Length:N0} bytes, a real Go CPU profile), the same file for every instance",
            [.. Enumerable.Repeat(cpu, Instances)]);
    }

    /// <summary>
    /// 100 replicas of one generated Go service (<see cref="LargeProfileGenerator.GenerateReplica"/>): the same
    /// functions and stacks, each instance with its own counts, written as runtime/pprof writes (see <see cref="AgentProfiles"/>).
    /// </summary>
    internal static Scenario GeneratedReplicas()
    {
        var files = new byte[Instances][];
        long raw = 0, samples = 0, stacks = 0;
        for (int i = 0; i < Instances; i++)
        {
            (files[i], long rawBytes, Profile profile) = AgentProfiles.AsUploaded(new LargeProfileGenerator().GenerateReplica(ReplicaStacks, i));
            raw += rawBytes;
            samples += profile.SampleCount;
            stacks += profile.StackCount;
        }

        long gzipped = files.Sum(f => (long)f.Length);
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{Instances} replicas of a generated Go service ({ReplicaStacks:N0} stacks in all): per file on average {gzipped / Instances / 1024.0:F0} KiB gzip, " +
            $"{raw / Instances / 1024.0:F0} KiB raw, {samples / Instances:N0} sample records, {stacks / Instances:N0} distinct stacks; {gzipped / 1048576.0:F1} MiB gzip in all");
        return new Scenario("generated", "query-generated", description, files);
    }

    /// <summary>One CPU task for every instance; each instance registers, polls and uploads its file as the Go agent does.</summary>
    internal static async Task<string> UploadAsync(MeasuredServer server, Scenario scenario)
    {
        Console.WriteLine($"{scenario.Name}: {scenario.Description}");
        using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
        string[] names = [.. Enumerable.Range(0, Instances).Select(InstanceName)];
        string taskId = await graphql.CreateTaskAsync(SkyWalkingIds.ServiceId(scenario.Service), InstanceIds(scenario), "CPU", duration: 1);
        var clock = Stopwatch.StartNew();
        // Ten agents at a time: enough to overlap, few enough not to matter here.
        foreach (int[] batch in Enumerable.Range(0, Instances).Chunk(10))
        {
            await Task.WhenAll(batch.Select(async i =>
            {
                using var agent = new GoLikeAgent(server.GrpcAddress, scenario.Service, names[i]);
                await agent.RegisterAsync();
                string? task = (await agent.PollAsync())?.TaskId;
                await agent.UploadAcceptedAsync(task ?? throw new InvalidOperationException($"{names[i]} got no task"), scenario.Files[i]);
            }));
        }

        int stored = await graphql.SucceededInstancesAsync(taskId);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {stored} uploads stored for task {taskId} in {clock.Elapsed.TotalSeconds:F1} s"));
        return stored == Instances ? taskId : throw new InvalidOperationException($"{stored} of {Instances} uploads stored");
    }

    private static string InstanceName(int instance) => $"instance-{instance:D3}";

    /// <summary>The SkyWalking ids of the scenario's instances, in upload order.</summary>
    internal static string[] InstanceIds(Scenario scenario) =>
        [.. Enumerable.Range(0, Instances).Select(i => SkyWalkingIds.InstanceId(SkyWalkingIds.ServiceId(scenario.Service), InstanceName(i)))];

    private static object Variables(string taskId, string[] instanceIds) => new { r = new { taskId, instanceIds } };

    private static async Task MeasureAsync(Scenario scenario, string taskId, string dataDirectory, string files, int warmRuns, int pprofRuns)
    {
        string[] instanceIds = InstanceIds(scenario);
        // Cold with nothing kept: each fresh process builds the tree from the uploads' digests.
        (List<double> cold, List<double> warm, List<double> top) =
            await ColdAndWarmAsync(async () =>
            {
                await MeasuredServer.ForgetKeptViewsAsync(dataDirectory);
                return await MeasuredServer.StartServerAsync(dataDirectory);
            }, taskId, instanceIds, warmRuns, withTop: true);

        // Cold with the task's default view kept in storage, as it is once a task has finished: the first look at it.
        var kept = new List<double>();
        for (int run = 0; run < ColdRuns; run++)
        {
            using MeasuredServer process = await MeasuredServer.StartServerAsync(dataDirectory);
            using var graphql = new GraphQLClient(process.HttpAddress!, TimeSpan.FromMinutes(10));
            (_, TimeSpan elapsed) = await graphql.TimedPostAsync(AnalyzeQuery, Variables(taskId, instanceIds));
            kept.Add(elapsed.TotalMilliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  queryPprofAnalyze cold with the default view kept: {Describe(kept)}"));

        // The first view the web UI asks for (the view for a 1,400-pixel graph and 300 top rows), cold, the view kept:
        // asked the moment the process is ready, and, as the page benchmark asks, once it has run for 2 s.
        var firstView = new List<double>();
        var firstViewSettled = new List<double>();
        for (int run = 0; run < 2 * ColdRuns; run++)
        {
            using MeasuredServer process = await MeasuredServer.StartServerAsync(dataDirectory);
            if (run >= ColdRuns)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            using var graphql = new GraphQLClient(process.HttpAddress!, TimeSpan.FromMinutes(10));
            (byte[] body, TimeSpan elapsed) = await graphql.TimedPostAsync(
                PageBenchmark.NewPage, new { r = new { taskId, instanceIds = Array.Empty<string>() }, w = PageBenchmark.Width, z = Array.Empty<string>() });
            GraphQLClient.CheckNoErrors(body);
            (run < ColdRuns ? firstView : firstViewSettled).Add(elapsed.TotalMilliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  first view (queryPprofFlameView + 300 top rows) cold with the default view kept: at once {Describe(firstView)}; after 2 s {Describe(firstViewSettled)}"));

        // One more fresh process splits the cold figure: the first request of any kind, then the analysis.
        using (MeasuredServer process = await MeasuredServer.StartServerAsync(dataDirectory))
        {
            using var graphql = new GraphQLClient(process.HttpAddress!, TimeSpan.FromMinutes(10));
            (_, TimeSpan first) = await graphql.TimedPostAsync("{ getTimeInfo { currentTimestamp } }");
            (_, TimeSpan analyze) = await graphql.TimedPostAsync(AnalyzeQuery, Variables(taskId, instanceIds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  in a fresh process: getTimeInfo first {first.TotalMilliseconds:F0} ms, then queryPprofAnalyze {analyze.TotalMilliseconds:F0} ms"));
        }

        await PhasesAsync(dataDirectory, taskId, instanceIds);
        var pprof = new List<double>();
        string shell = $"go tool pprof -symbolize=none -top '{files}'/instance-*.pb.gz > /dev/null 2>&1";
        for (int i = 0; i < pprofRuns; i++)
        {
            var load = new MachineLoad();
            (double seconds, long kib, double cpu) = ProcessComparison.Measure(shell);
            pprof.Add(seconds * 1000);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  go tool pprof -top, {Instances} files: run {i + 1}/{pprofRuns}: {seconds:F2} s ({cpu:F2} s CPU), peak {kib / 1024.0:F0} MiB; other processes {load.OtherCores(cpu):F2} cores"));
        }

        double coldMedian = Median.Of(cold), warmMedian = Median.Of(warm), topMedian = Median.Of(top), pprofMedian = Median.Of(pprof);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{scenario.Name}: go tool pprof -top median {pprofMedian:F0} ms; queryPprofAnalyze cold median {coldMedian:F0} ms ({pprofMedian / coldMedian:F1}x faster), " +
            $"cold with the view kept median {Median.Of(kept):F0} ms ({pprofMedian / Median.Of(kept):F1}x); " +
            $"first view cold, kept, median {Median.Of(firstView):F0} ms ({pprofMedian / Median.Of(firstView):F1}x), after 2 s {Median.Of(firstViewSettled):F0} ms ({pprofMedian / Median.Of(firstViewSettled):F1}x); " +
            $"warm median {warmMedian:F0} ms ({pprofMedian / warmMedian:F1}x); queryPprofTop warm median {topMedian:F0} ms ({pprofMedian / topMedian:F1}x); " +
            $"target {Target:F0}x: cold {Verdict(pprofMedian / coldMedian)}, warm {Verdict(pprofMedian / warmMedian)}"));
    }

    /// <summary>
    /// queryPprofAnalyze over every instance of the task: first in each of <see cref="ColdRuns"/> fresh server
    /// processes that <paramref name="start"/> starts (cold), then <paramref name="warmRuns"/> times more in the first
    /// of them (warm), and as many queryPprofTop when <paramref name="withTop"/>. <paramref name="databaseCpuSeconds"/>
    /// reads the CPU of a database server the server process uses, so that it is not counted as other processes' noise.
    /// </summary>
    internal static async Task<AnalyzeTimes> ColdAndWarmAsync(
        Func<Task<MeasuredServer>> start, string taskId, string[] instanceIds, int warmRuns, bool withTop, Func<double>? databaseCpuSeconds = null)
    {
        databaseCpuSeconds ??= () => 0;
        object variables = Variables(taskId, instanceIds);
        var cold = new List<double>();
        var warm = new List<double>();
        var top = new List<double>();
        for (int run = 1; run <= ColdRuns; run++)
        {
            // A fresh server process for each cold figure; the first one also serves the warm series.
            using MeasuredServer process = await start();
            var load = new MachineLoad();
            double OurCpu() => process.CpuSeconds + OwnCpuSeconds() + databaseCpuSeconds();
            double ourCpu = OurCpu();
            using var graphql = new GraphQLClient(process.HttpAddress!, TimeSpan.FromMinutes(10));
            double serverCpu = process.CpuSeconds, databaseCpu = databaseCpuSeconds();
            (byte[] body, TimeSpan elapsed) = await graphql.TimedPostAsync(AnalyzeQuery, variables);
            cold.Add(elapsed.TotalMilliseconds);
            serverCpu = process.CpuSeconds - serverCpu;
            databaseCpu = databaseCpuSeconds() - databaseCpu;
            JsonArray elements = GraphQLClient.Data(body)["queryPprofAnalyze"]!["tree"]!["elements"]!.AsArray();
            string database = databaseCpu > 0 ? string.Create(CultureInfo.InvariantCulture, $", PostgreSQL {databaseCpu:F2} s") : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  queryPprofAnalyze cold {run}/{ColdRuns}: {elapsed.TotalMilliseconds:F0} ms ({elements.Count:N0} elements, {body.Length / 1048576.0:F1} MiB of JSON, root total {(long)elements[0]!["total"]!:N0}); " +
                $"CPU: server {serverCpu:F2} s{database}"));
            if (run > 1)
            {
                continue;
            }

            for (int i = 0; i < warmRuns; i++)
            {
                (_, elapsed) = await graphql.TimedPostAsync(AnalyzeQuery, variables);
                warm.Add(elapsed.TotalMilliseconds);
            }

            string topPart = "";
            if (withTop)
            {
                for (int i = 0; i < warmRuns; i++)
                {
                    (body, elapsed) = await graphql.TimedPostAsync(TopQuery, variables);
                    top.Add(elapsed.TotalMilliseconds);
                }

                JsonNode table = GraphQLClient.Data(body)["queryPprofTop"]!;
                topPart = string.Create(CultureInfo.InvariantCulture,
                    $"; queryPprofTop (every function: {table["rows"]!.AsArray().Count:N0} rows, total {(long)table["total"]!:N0}) {Describe(top)}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  warm, {warmRuns} runs: queryPprofAnalyze {Describe(warm)}{topPart}; other processes {load.OtherCores(OurCpu() - ourCpu):F2} cores"));
        }

        return new AnalyzeTimes(cold, warm, top);
    }

    private static string Describe(List<double> milliseconds) => string.Create(CultureInfo.InvariantCulture,
        $"median {Median.Of(milliseconds):F0} ms (min {milliseconds.Min():F0}, max {milliseconds.Max():F0})");

    private static double OwnCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>
    /// Where a query's time goes: the server's own steps run here, in process, on the same data (this process's
    /// code is already optimised by the uploads it made, so the split is of warm work; cold adds JIT and first use).
    /// </summary>
    private static async Task PhasesAsync(string dataDirectory, string taskId, string[] instanceIds)
    {
        using var store = new SqliteProfilingStore(dataDirectory);
        using var analysis = new AnalysisService(store, new ServerOptions());
        var request = new AnalysisRequest(taskId, instanceIds);
        (double read, int uploads, long bytes) = await ReadUploadsAsync(store, taskId);
        var clock = Stopwatch.StartNew();
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        long workingSetBefore = Environment.WorkingSet;
        SelectedProfiles selection = await analysis.LoadAsync(taskId, instanceIds, requireEvery: false, CancellationToken.None);
        double load = clock.Elapsed.TotalMilliseconds;
        double loadPaused = (GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds;
        double loadMiB = (Environment.WorkingSet - workingSetBefore) / 1048576.0;
        clock.Restart();
        FlameTree tree = FlameTreeBuilder.Build(selection.Profiles, AnalysisService.OptionsFor(selection, request));
        double build = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        IReadOnlyList<StackElement> elements = SkyWalkingTree.Elements(tree);
        double list = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        TopTable.Build(selection.Profiles, AnalysisService.OptionsFor(selection, request));
        double top = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  in process: read {uploads} uploads ({bytes / 1048576.0:F1} MiB) {read:F0} ms; read + decode them (as the server does, in parallel) {load:F0} ms, of which GC pauses {loadPaused:F0} ms, working set {loadMiB:+0;-0;0} MiB; " +
            $"flame tree {build:F0} ms; element list ({elements.Count:N0}) {list:F0} ms; top table {top:F0} ms"));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>Reads every upload of the task from the store, one after the other: milliseconds, uploads, bytes.</summary>
    internal static async Task<(double Milliseconds, int Uploads, long Bytes)> ReadUploadsAsync(IProfilingStore store, string taskId)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<UploadInfo> uploads = await store.ListUploadsAsync(taskId, CancellationToken.None);
        long bytes = 0;
        foreach (UploadInfo upload in uploads)
        {
            bytes += (await store.ReadUploadAsync(taskId, upload.InstanceId, CancellationToken.None))!.Length;
        }

        return (clock.Elapsed.TotalMilliseconds, uploads.Count, bytes);
    }

    private static string Verdict(double speedup) => speedup >= Target ? "met" : "NOT met";
}
