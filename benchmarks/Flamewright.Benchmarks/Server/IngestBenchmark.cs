using System.Diagnostics;
using System.Globalization;
using Flamewright.Pprof;
using Flamewright.Pprof.Model;
using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Sqlite;
using Flamewright.Server.Tasks;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// Ingest throughput: <see cref="Agents"/> simulated Go agents upload a 1 MiB profile each, all at once, round
/// after round, over loopback, to a real <c>flamewright server</c> (every upload parsed and stored in SQLite)
/// and, in the same run, to a <see cref="BareGrpcSink"/>. Runs alternate sink and server to share the noise.
/// </summary>
internal static class IngestBenchmark
{
    /// <summary>Agents uploading at the same time: the ingest target's figure (benchmarks/README.md).</summary>
    public const int Agents = 50;

    /// <summary>Distinct stacks of the generated profile: about 1 MiB once gzipped.</summary>
    public const int ProfileStacks = 26_000;

    /// <summary>The target (benchmarks/README.md): the server sustains at least this part of the sink's bytes per second.</summary>
    public const double Target = 0.5;

    private const string Service = "ingest-bench";

    /// <summary>The single-thread reference costs: batches, and uploads per batch.</summary>
    private const int Batches = 7, BatchSize = 4;

    /// <summary>Uploads that <see cref="StoreMillisecondsAsync"/> stores, its warm-up batch included.</summary>
    internal const int StoredUploads = (Batches + 1) * BatchSize;

    public static async Task<int> RunAsync(int runs, int rounds)
    {
        runs = Math.Max(1, runs);
        rounds = Math.Max(1, rounds);
        byte[] profile = MakeProfile();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Agents} agents, {rounds} timed rounds after 1 warm-up round, {runs} run(s) each of sink and server, alternating"));
        // What the server does to each upload beyond receiving it, timed alone on one thread: where its time goes.
        // About every fourth store also checkpoints the write-ahead log (1,000 pages of 4 KiB), so batches of 4 see that too.
        double store = await SqliteStoreMillisecondsAsync(profile);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"per upload, alone on one thread: decode {DecodeMilliseconds(profile):F1} ms, SQLite store {store:F1} ms"));
        var sink = new List<RunResult>();
        var server = new List<RunResult>();
        for (int run = 1; run <= runs; run++)
        {
            sink.Add(await MeasureSinkAsync($"sink   run {run}", profile, rounds));
            server.Add(await MeasureServerAsync($"server run {run}", profile, rounds));
        }

        double sinkMiB = Median.Of(sink.Select(r => r.MiBPerSecond));
        double serverMiB = Median.Of(server.Select(r => r.MiBPerSecond));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median of {runs}: sink {sinkMiB:F1} MiB/s ({Median.Of(sink.Select(r => r.UploadsPerSecond)):F1} uploads/s), " +
            $"server {serverMiB:F1} MiB/s ({Median.Of(server.Select(r => r.UploadsPerSecond)):F1} uploads/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"server / sink: {serverMiB / sinkMiB:P0} (target {Target:P0}: {(serverMiB / sinkMiB >= Target ? "met" : "NOT met")})"));
        return 0;
    }

    /// <summary>A Go-service-shaped CPU profile from <see cref="LargeProfileGenerator"/>, as runtime/pprof would write it.</summary>
    internal static byte[] MakeProfile()
    {
        (byte[] bytes, long raw, Profile written) = AgentProfiles.AsUploaded(new LargeProfileGenerator().Generate(ProfileStacks));
        Console.WriteLine($"profile ({bytes.Length:N0} bytes): generated CPU profile, {LargeProfileGenerator.Describe(written, bytes.Length, raw)}");
        return bytes;
    }

    /// <summary>Milliseconds per decode: the median of batches, since one busy moment of the machine skews a mean.</summary>
    private static double DecodeMilliseconds(byte[] profile)
    {
        // Two seconds of warm-up first, so that the decoder runs fully optimised, as it does in a busy server.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            ProfileReader.Read(profile);
        }

        var batches = new List<double>();
        for (int batch = 0; batch < Batches; batch++)
        {
            clock.Restart();
            for (int i = 0; i < BatchSize; i++)
            {
                ProfileReader.Read(profile);
            }

            batches.Add(clock.Elapsed.TotalMilliseconds / BatchSize);
        }

        return Median.Of(batches);
    }

    /// <summary><see cref="StoreMillisecondsAsync"/> on a fresh SQLite file, the server's default store.</summary>
    internal static async Task<double> SqliteStoreMillisecondsAsync(byte[] profile)
    {
        string dataDirectory = MeasuredServer.NewDataDirectory("store");
        try
        {
            using var store = new SqliteProfilingStore(dataDirectory);
            return await StoreMillisecondsAsync(store, profile);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Milliseconds per stored upload (one transaction: the profile and its log line) into <paramref name="store"/>,
    /// an empty one (migrated here), median of batches.
    /// </summary>
    internal static async Task<double> StoreMillisecondsAsync(SqlProfilingStore store, byte[] profile)
    {
        await store.MigrateAsync(CancellationToken.None);
        var batches = new List<double>();
        int upload = 0;
        var clock = new Stopwatch();
        // Batch 0 warms up.
        for (int batch = 0; batch <= Batches; batch++)
        {
            clock.Restart();
            for (int i = 0; i < BatchSize; i++, upload++)
            {
                string instance = $"instance-{upload}";
                await store.SaveUploadAsync(
                    new StoredUpload("task", instance, instance, upload, profile.Length * 4L, 1, "cpu/nanoseconds", profile),
                    new TaskLog("task", instance, instance, TaskLogOperation.EXECUTION_FINISHED, upload, null),
                    CancellationToken.None);
            }

            if (batch > 0)
            {
                batches.Add(clock.Elapsed.TotalMilliseconds / BatchSize);
            }
        }

        return Median.Of(batches);
    }

    private static async Task<RunResult> MeasureSinkAsync(string name, byte[] profile, int rounds)
    {
        using MeasuredServer sink = await MeasuredServer.StartSinkAsync();
        // The sink ignores task ids; each round still names its own, as for the server.
        string[] taskIds = [.. Enumerable.Range(0, rounds + 1).Select(r => $"sink-task-{r}")];
        List<GoLikeAgent> agents = MakeAgents(sink.GrpcAddress);
        try
        {
            return await UploadRoundsAsync(name, sink, agents, taskIds, profile);
        }
        finally
        {
            agents.ForEach(a => a.Dispose());
        }
    }

    /// <summary>
    /// One run against a fresh server: SQLite in a new data directory, or the PostgreSQL database
    /// <paramref name="postgres"/> (empty), whose cluster's CPU <paramref name="databaseCpuSeconds"/> reads.
    /// </summary>
    internal static async Task<RunResult> MeasureServerAsync(string name, byte[] profile, int rounds, string? postgres = null, Func<double>? databaseCpuSeconds = null)
    {
        string dataDirectory = MeasuredServer.NewDataDirectory("ingest");
        // On PostgreSQL the server makes it only for uploads kept on disk (MemoryParser false).
        Directory.CreateDirectory(dataDirectory);
        try
        {
            using MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory, postgres);
            List<GoLikeAgent> agents = MakeAgents(server.GrpcAddress);
            try
            {
                using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
                string serviceId = SkyWalkingIds.ServiceId(Service);
                string[] instanceIds = [.. agents.Select(a => SkyWalkingIds.InstanceId(serviceId, a.Instance))];
                // One HEAP task per round, each for every agent: HEAP is a snapshot, so a new task does not meet
                // ALREADY_PROFILING_ERROR, and each (task, instance) pair is a distinct upload, never a replacement.
                var taskIds = new List<string>();
                for (int round = 0; round <= rounds; round++)
                {
                    taskIds.Add(await graphql.CreateTaskAsync(serviceId, instanceIds, "HEAP"));
                }

                // Each agent registers and takes the tasks as the Go agent does: one per poll, oldest first.
                await Task.WhenAll(agents.Select(async agent =>
                {
                    await agent.RegisterAsync();
                    foreach (string expected in taskIds)
                    {
                        string? task = (await agent.PollAsync())?.TaskId;
                        if (task != expected)
                        {
                            throw new InvalidOperationException($"{agent.Instance} polled {task}, expected {expected}");
                        }
                    }
                }));
                RunResult result = await UploadRoundsAsync(name, server, agents, taskIds, profile, databaseCpuSeconds);
                foreach (string taskId in taskIds)
                {
                    int stored = await graphql.SucceededInstancesAsync(taskId);
                    if (stored != Agents)
                    {
                        throw new InvalidOperationException($"task {taskId}: {stored} uploads stored, {Agents} expected");
                    }
                }

                Console.WriteLine($"  {name}: checked: every upload stored ({taskIds.Count} tasks x {Agents} instances)");
                return result;
            }
            finally
            {
                agents.ForEach(a => a.Dispose());
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static List<GoLikeAgent> MakeAgents(Uri server) =>
        [.. Enumerable.Range(0, Agents).Select(i => new GoLikeAgent(server, Service, $"agent-{i:D2}"))];

    /// <summary>Round 0 warms up (connections, JIT); the others are timed. Every agent uploads once per round, at its own pace.</summary>
    private static async Task<RunResult> UploadRoundsAsync(
        string name, MeasuredServer server, List<GoLikeAgent> agents, IReadOnlyList<string> taskIds, byte[] profile, Func<double>? databaseCpuSeconds = null)
    {
        databaseCpuSeconds ??= () => 0;
        await Task.WhenAll(agents.Select(a => a.UploadAcceptedAsync(taskIds[0], profile)));
        int total = agents.Count * (taskIds.Count - 1);
        var latencies = new double[total];
        int done = 0;
        var load = new MachineLoad();
        double agentCpu = AgentCpuSeconds(), serverCpu = server.CpuSeconds, databaseCpu = databaseCpuSeconds();
        long serverFaults = server.MinorFaults;
        var clock = Stopwatch.StartNew();
        using var progress = new Timer(_ => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name}: {Volatile.Read(ref done)}/{total} uploads, {clock.Elapsed.TotalSeconds:F1} s")), null, 2000, 2000);
        await Task.WhenAll(agents.Select(async agent =>
        {
            for (int round = 1; round < taskIds.Count; round++)
            {
                long start = Stopwatch.GetTimestamp();
                await agent.UploadAcceptedAsync(taskIds[round], profile);
                latencies[Interlocked.Increment(ref done) - 1] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        await progress.DisposeAsync();
        agentCpu = AgentCpuSeconds() - agentCpu;
        serverCpu = server.CpuSeconds - serverCpu;
        databaseCpu = databaseCpuSeconds() - databaseCpu;
        serverFaults = server.MinorFaults - serverFaults;
        Array.Sort(latencies);
        var result = new RunResult(total, total * (double)profile.Length / (1024 * 1024), seconds, serverCpu, databaseCpu, agentCpu, serverFaults,
            latencies[total / 2], latencies[Math.Min(total - 1, (int)Math.Ceiling(total * 0.99) - 1)], load.OtherCores(agentCpu + serverCpu + databaseCpu));
        Console.WriteLine($"  {name}: {result}");
        return result;
    }

    private static double AgentCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>
    /// One timed run. Latency is the agent's: from opening <c>collect</c> to the end of the stream, which the
    /// server sends once the profile is stored. <c>OtherCores</c> is what other processes on the machine used
    /// meanwhile: the noise. <c>DatabaseCpuSeconds</c> is the PostgreSQL cluster's, for a server that stores there (0 otherwise).
    /// </summary>
    internal sealed record RunResult(
        int Uploads, double MiB, double Seconds, double ServerCpuSeconds, double DatabaseCpuSeconds, double AgentCpuSeconds, long ServerFaults, double P50Ms, double P99Ms, double OtherCores)
    {
        public double MiBPerSecond => MiB / Seconds;

        public double UploadsPerSecond => Uploads / Seconds;

        public override string ToString()
        {
            string database = DatabaseCpuSeconds > 0
                ? string.Create(CultureInfo.InvariantCulture, $"PostgreSQL {DatabaseCpuSeconds / Seconds:F2} cores ({DatabaseCpuSeconds * 1000 / Uploads:F1} ms per upload), ")
                : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{Uploads} uploads, {MiB:F0} MiB in {Seconds:F2} s: {Uploads / Seconds:F1} uploads/s, {MiBPerSecond:F1} MiB/s; latency p50 {P50Ms:F0} ms, p99 {P99Ms:F0} ms; " +
                $"server CPU {ServerCpuSeconds / Seconds:F2} cores ({ServerCpuSeconds * 1000 / Uploads:F1} ms and {ServerFaults / Uploads:N0} page faults per upload), " +
                $"{database}agents {AgentCpuSeconds / Seconds:F2} cores; other processes {OtherCores:F2} cores");
        }
    }
}
