using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Flamewright.EndToEnd.Tests;

/// <summary>
/// Crash safety (docs/reliability.md): a <c>flamewright server</c> killed with SIGKILL while agents stream uploads and users create
/// tasks, then restarted on the same data and ports, still has every upload it acknowledged (complete and analysable)
/// and every task it reported created; nothing half-written is visible and no temporary upload file is left. Each
/// provider runs the same rounds; the kill moments and payload sizes come from a printed seed.
/// </summary>
public abstract class CrashSafetyTests(ITestOutputHelper output)
{
    /// <summary>Set to a seed a run printed to repeat its kill moments and payloads (thread timing still varies).</summary>
    public const string SeedVariable = "FLAMEWRIGHT_CRASH_SEED";

    /// <summary>Agents uploading at once, each in a service of its own so that a task list holds all of one agent's tasks.</summary>
    private const int Agents = 20;

    private const int FleetSize = 5;
    private const int Kills = 3;

    /// <summary>queryPprofTaskList's cap (Resolvers.MaxTaskListLimit): a service must stay under it for the checks to see every task.</summary>
    private const int TaskListLimit = 1000;

    /// <summary>A field number profile.proto does not use: the decoder skips it, so padding changes the size and nothing else.</summary>
    private const int PaddingField = 1000;

    /// <summary>The folder under the data directory that holds uploads in temporary-file mode (UploadReceiver.TemporaryFolder).</summary>
    private const string TemporaryFolder = "uploads.tmp";

    /// <summary>Events whose tasks end as they start, so one service can have a new task every millisecond (no ALREADY_PROFILING).</summary>
    private static readonly string[] s_snapshotEvents = ["HEAP", "ALLOCS", "GOROUTINE", "THREADCREATE"];

    /// <summary>The store's flags, on a fresh database.</summary>
    protected abstract Task<string[]> StorageAsync();

    protected abstract string Provider { get; }

    [Fact(Timeout = Spec.ProcessTimeout)]
    public Task A_server_killed_mid_upload_and_mid_task_creation_restarts_with_everything_it_acknowledged_and_nothing_half_written() => Spec.Run(async () =>
    {
        int seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } given ? int.Parse(given, CultureInfo.InvariantCulture) : Random.Shared.Next();
        Report($"{Provider}: seed {seed} ({SeedVariable}={seed} repeats the kill moments and payloads)");
        var random = new Random(seed);
        Payload[] payloads = Payloads(random);
        Report($"payloads: {string.Join(", ", payloads.Select(p => $"{p.Name} {p.Bytes.Length / 1024} KiB"))}");
        // Temporary files, so that a kill mid-stream leaves some behind for the restart to clear.
        string[] args = [.. await StorageAsync(), "--memory-parser", "false"];
        string dataDir = Directory.CreateTempSubdirectory("flamewright-crash-").FullName;
        string temporary = Path.Combine(dataDir, TemporaryFolder);
        var ledger = new Ledger();
        var analysed = new HashSet<(string Task, string Instance)>();
        var total = Stopwatch.StartNew();
        ServerProcess server = await ServerProcess.StartAsync(dataDir, args);
        var servers = new List<string>();
        int leftBehind = 0;
        GoLikeAgent[] agents = [.. Enumerable.Range(0, Agents).Select(i => new GoLikeAgent(server.GrpcAddress, $"crash-{i:D2}", "node"))];
        try
        {
            await Task.WhenAll(agents.Select(a => a.RegisterAsync()));
            for (int number = 1; number <= Kills + 1; number++)
            {
                // The last round kills nothing: the server that survived every kill must still take uploads and tasks.
                bool kill = number <= Kills;
                var round = new Round(number, kill ? null : 2);
                TimeSpan killAfter = TimeSpan.FromMilliseconds(random.Next(1000, 3000));
                using var graph = new GraphQLClient(server.HttpAddress);
                var fleet = new Fleet(number);
                Task[] workers =
                [
                    .. agents.Select((agent, i) => UploadLoopAsync(round, ledger, graph, agent, payloads, new Random(seed + number * 100 + i))),
                    // Users creating five-instance tasks beside the agents, one per event.
                    .. s_snapshotEvents.Select(e => CreateLoopAsync(round, ledger, graph, fleet, e)),
                ];
                if (!kill)
                {
                    await Task.WhenAll(workers);
                    Assert.Empty(Directory.Exists(temporary) ? Directory.GetFiles(temporary) : []);
                    await VerifyAsync(server, ledger, analysed);
                    Report($"round {number}, no kill: {round.Summary(ledger)}; all found and analysed, no temporary file");
                    break;
                }

                await Task.Delay(killAfter);
                string inFlight = round.InFlight(ledger);
                round.Killed = true;
                server.Process.Kill();
                await server.Process.WaitForExitAsync();
                await Task.WhenAll(workers);
                int leftovers = Directory.Exists(temporary) ? Directory.GetFiles(temporary).Length : 0;
                leftBehind += leftovers;
                servers.Add(server.Output);
                server.Dispose();

                var restart = Stopwatch.StartNew();
                server = await ServerProcess.StartOnAsync(server.GrpcPort, server.HttpPort, dataDir, args);
                restart.Stop();
                string[] left = Directory.Exists(temporary) ? Directory.GetFiles(temporary) : [];
                Assert.True(left.Length == 0, $"temporary files survived the restart: {string.Join(", ", left)}");
                (int uploadsStoredAnyway, int tasksStoredAnyway) = await VerifyAsync(server, ledger, analysed);
                Report($"round {number}: killed after {killAfter.TotalSeconds:0.00} s with {round.Summary(ledger)} acknowledged; in flight at the kill: {inFlight}; "
                    + $"{leftovers} temporary file(s) left by the kill; restarted in {restart.Elapsed.TotalSeconds:0.0} s: every acknowledged upload listed and analysed, "
                    + $"every acknowledged task found, {uploadsStoredAnyway} cut-off upload(s) and {tasksStoredAnyway} cut-off task(s) found complete (committed before the kill, answer lost), "
                    + "nothing half-written, no temporary file");
            }

            // Without these the checks above would have proved nothing: no kill ever caught an upload under way.
            Assert.True(ledger.Uploads.Any(u => u.Outcome == Outcome.CutOff && u.Payload.Large), "no kill came while a large upload was under way");
            Assert.True(leftBehind > 0, "no kill left a temporary file behind for the restart to clear");
            servers.Add(server.Output);
            Report($"{Provider}: {Kills} kills, {ledger.Uploads.Count(u => u.Outcome == Outcome.Acknowledged)} uploads and "
                + $"{ledger.Creations.Count(c => c.Outcome == Outcome.Acknowledged)} task creations acknowledged in all, every one found after restart; {total.Elapsed.TotalSeconds:0} s");
            // The server may warn about the uploads a kill cut off; it must never fail on its own data after a restart.
            // Console lines are "HH:mm:ss level: category[id] message".
            string[] failures = [.. servers.SelectMany(s => s.Split('\n')).Where(l => Regex.IsMatch(l, @"^(\S+ )?(fail|crit): "))];
            Assert.True(failures.Length == 0, "the server logged errors:\n" + string.Join("\n", failures));
        }
        catch (Exception) when (Dump(server))
        {
            throw;
        }
        finally
        {
            foreach (GoLikeAgent agent in agents)
            {
                agent.Dispose();
            }

            server.Dispose();
            Directory.Delete(dataDir, recursive: true);
        }
    });

    private void Report(string line) => output.WriteLine(line);

    /// <summary>Prints the end of what the server said next to a failure; never catches.</summary>
    private bool Dump(ServerProcess server)
    {
        output.WriteLine("the server's last lines:\n" + string.Join("\n", server.Output.Split('\n').TakeLast(100)));
        return false;
    }

    /// <summary>
    /// One agent: creates a task for itself through GraphQL, uploads a profile to it, again and again until the kill
    /// (or <see cref="Round.Iterations"/> times). Each upload goes to a task of its own, so each is told apart.
    /// </summary>
    private static async Task UploadLoopAsync(Round round, Ledger ledger, GraphQLClient graph, GoLikeAgent agent, Payload[] payloads, Random random)
    {
        for (int i = 0; round.Iterations is not int n || i < n; i++)
        {
            var creation = new Creation(round.Number, agent.ServiceId, [agent.InstanceId], s_snapshotEvents[random.Next(s_snapshotEvents.Length)]);
            if (round.Killed || await TryCreateAsync(round, ledger, graph, creation) is not string taskId)
            {
                return;
            }

            // One upload in four is megabytes, so that several are mid-stream when the kill comes.
            Payload[] pool = random.Next(4) == 0 ? [.. payloads.Where(p => p.Large)] : [.. payloads.Where(p => !p.Large)];
            var upload = new UploadAttempt(round.Number, taskId, agent.InstanceId, pool[random.Next(pool.Length)]);
            if (round.Killed || !await TryUploadAsync(round, ledger, agent, upload))
            {
                return;
            }
        }
    }

    /// <summary>
    /// A user creating five-instance tasks in the round's own service. Each user keeps to one event: ALREADY_PROFILING
    /// is per service and event, and two creations of a service in one millisecond push the later task's id, and so its
    /// start, a millisecond on, where a third of the same event would rightly be refused.
    /// </summary>
    private static async Task CreateLoopAsync(Round round, Ledger ledger, GraphQLClient graph, Fleet fleet, string @event)
    {
        for (int i = 0; round.Iterations is not int n || i < n * 5; i++)
        {
            var creation = new Creation(round.Number, fleet.ServiceId, fleet.InstanceIds, @event);
            if (round.Killed || await TryCreateAsync(round, ledger, graph, creation) is null)
            {
                return;
            }

            // A user's pace rather than a flood: keeps each round's service under the task list's cap.
            await Task.Delay(10);
        }
    }

    private static async Task<string?> TryCreateAsync(Round round, Ledger ledger, GraphQLClient graph, Creation creation)
    {
        ledger.Creations.Enqueue(creation);
        try
        {
            JsonNode result = (await graph.DataAsync(
                "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
                new { r = new { serviceId = creation.ServiceId, serviceInstanceIds = creation.InstanceIds, events = creation.Event } }))["createPprofTask"]!;
            // Any answer but SUCCESS is a failure of the test, not an effect of the kill.
            Assert.True((string?)result["code"] == "SUCCESS", result.ToJsonString());
            creation.TaskId = (string)result["id"]!;
            creation.Outcome = Outcome.Acknowledged;
            return creation.TaskId;
        }
        catch (Exception e) when (round.Killed && IsConnectionLoss(e))
        {
            creation.Outcome = Outcome.CutOff;
            return null;
        }
    }

    /// <summary>
    /// Uploads as the Go agent does; acknowledged means the server answered SUCCESS to the metadata and ended the
    /// stream with OK after the last byte, which it does only once the upload and its EXECUTION_FINISHED are stored.
    /// </summary>
    private static async Task<bool> TryUploadAsync(Round round, Ledger ledger, GoLikeAgent agent, UploadAttempt upload)
    {
        ledger.Uploads.Enqueue(upload);
        try
        {
            byte[] bytes = upload.Payload.Bytes;
            (AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call, PprofProfilingStatus answer) =
                await agent.BeginUploadAsync(agent.MetadataMessage(upload.TaskId, PprofProfilingStatus.PprofProfilingSuccess, bytes.Length));
            using (call)
            {
                Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, answer);
                upload.Phase = UploadPhase.Streaming;
                for (int offset = 0; offset < bytes.Length; offset += GoLikeAgent.ChunkSize)
                {
                    await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(bytes, offset, Math.Min(GoLikeAgent.ChunkSize, bytes.Length - offset)) });
                }

                upload.Phase = UploadPhase.Completing;
                await GoLikeAgent.EndUploadAsync(call);
            }

            upload.Outcome = Outcome.Acknowledged;
            return true;
        }
        catch (Exception e) when (round.Killed && IsConnectionLoss(e))
        {
            upload.Outcome = Outcome.CutOff;
            return false;
        }
    }

    /// <summary>What a client sees when the server dies under it: a reset connection, a cut-short body.</summary>
    private static bool IsConnectionLoss(Exception e) => e is RpcException or HttpRequestException or IOException or TaskCanceledException or JsonException;

    /// <summary>
    /// Everything the restarted server shows, against the ledger: every task listed is whole (all its instances),
    /// every acknowledged task is there and no more tasks than were attempted; per task, the instances with an upload
    /// are exactly those with an EXECUTION_FINISHED; every upload is one that was sent, of its size and sample count,
    /// and analyses to the engine's total for its bytes; every acknowledged upload is among them.
    /// </summary>
    /// <returns>How many cut-off uploads and task creations turned out stored: committed, but the answer lost with the server.</returns>
    private static async Task<(int Uploads, int Tasks)> VerifyAsync(ServerProcess server, Ledger ledger, HashSet<(string Task, string Instance)> analysed)
    {
        using var graph = new GraphQLClient(server.HttpAddress);
        var tasks = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (IGrouping<string, Creation> service in ledger.Creations.GroupBy(c => c.ServiceId))
        {
            JsonNode list = (await graph.DataAsync(
                "query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) { errorReason tasks { id serviceInstanceIds } } }",
                new { r = new { serviceId = service.Key, limit = TaskListLimit } }))["queryPprofTaskList"]!;
            JsonArray found = list["tasks"]!.AsArray();
            Assert.True(found.Count < TaskListLimit, $"service {service.Key} has {found.Count} tasks: the list is capped, so the checks would miss some");
            string[] instances = service.First().InstanceIds;
            foreach (JsonNode? task in found)
            {
                string id = (string)task!["id"]!;
                string[] listed = [.. task["serviceInstanceIds"]!.AsArray().Select(i => (string)i!)];
                Assert.True(instances.SequenceEqual(listed), $"task {id} is half-written: instances [{string.Join(", ", listed)}], created with [{string.Join(", ", instances)}]");
                tasks.Add(id, listed);
            }

            int acknowledged = service.Count(c => c.Outcome == Outcome.Acknowledged);
            int cutOff = service.Count(c => c.Outcome == Outcome.CutOff);
            Assert.InRange(found.Count, acknowledged, acknowledged + cutOff);
        }

        Creation[] lost = [.. ledger.Creations.Where(c => c.Outcome == Outcome.Acknowledged && !tasks.ContainsKey(c.TaskId!))];
        Assert.True(lost.Length == 0, $"{lost.Length} acknowledged task creations are gone after the restart, e.g. {lost.FirstOrDefault()?.TaskId}");
        int tasksStoredAnyway = tasks.Count - ledger.Creations.Count(c => c.Outcome == Outcome.Acknowledged);

        // Uploads and logs of every task, ten tasks to a query (within GraphQLMaxComplexity).
        var attempts = ledger.Uploads.ToDictionary(u => (u.TaskId, u.InstanceId));
        var stored = new List<UploadAttempt>();
        foreach (string[] batch in tasks.Keys.Chunk(10))
        {
            var query = new StringBuilder("query {");
            for (int i = 0; i < batch.Length; i++)
            {
                string id = JsonSerializer.Serialize(batch[i]);
                query.Append(CultureInfo.InvariantCulture, $" u{i}: queryPprofUploads(taskId: {id}) {{ instanceId compressedBytes sampleCount }}");
                query.Append(CultureInfo.InvariantCulture, $" p{i}: queryPprofTaskProgress(taskId: {id}) {{ logs {{ instanceId operationType }} }}");
            }

            JsonNode data = await graph.DataAsync(query.Append(" }").ToString());
            for (int i = 0; i < batch.Length; i++)
            {
                string taskId = batch[i];
                JsonArray uploads = data[$"u{i}"]!.AsArray();
                string[] withUpload = [.. uploads.Select(u => (string)u!["instanceId"]!).Order(StringComparer.Ordinal)];
                string[] finished = [.. data[$"p{i}"]!["logs"]!.AsArray()
                    .Where(l => (string?)l!["operationType"] == "EXECUTION_FINISHED").Select(l => (string)l!["instanceId"]!).Order(StringComparer.Ordinal)];
                Assert.True(withUpload.SequenceEqual(finished),
                    $"task {taskId} is half-written: uploads of [{string.Join(", ", withUpload)}], EXECUTION_FINISHED of [{string.Join(", ", finished)}]");
                foreach (JsonNode? upload in uploads)
                {
                    string instanceId = (string)upload!["instanceId"]!;
                    Assert.True(attempts.TryGetValue((taskId, instanceId), out UploadAttempt? attempt), $"task {taskId} has an upload of {instanceId} that nobody sent");
                    Assert.True((long)upload["compressedBytes"]! == attempt.Payload.Bytes.Length && (long)upload["sampleCount"]! == attempt.Payload.SampleCount,
                        $"task {taskId}: the stored upload ({upload.ToJsonString()}) is not the {attempt.Payload.Name} profile sent ({attempt.Payload.Bytes.Length} bytes, {attempt.Payload.SampleCount} samples)");
                    stored.Add(attempt);
                }
            }
        }

        var storedKeys = stored.Select(u => (u.TaskId, u.InstanceId)).ToHashSet();
        UploadAttempt[] missing = [.. ledger.Uploads.Where(u => u.Outcome == Outcome.Acknowledged && !storedKeys.Contains((u.TaskId, u.InstanceId)))];
        Assert.True(missing.Length == 0, $"{missing.Length} acknowledged uploads are gone after the restart, e.g. {missing.FirstOrDefault()?.TaskId}");

        // Each stored upload analysed once (the bytes of a stored upload never change), three to a query, well within GraphQLMaxComplexity.
        foreach (UploadAttempt[] batch in stored.Where(u => !analysed.Contains((u.TaskId, u.InstanceId))).Chunk(3))
        {
            var query = new StringBuilder("query {");
            for (int i = 0; i < batch.Length; i++)
            {
                string request = $"{{ taskId: {JsonSerializer.Serialize(batch[i].TaskId)}, instanceIds: [{JsonSerializer.Serialize(batch[i].InstanceId)}], sampleType: {JsonSerializer.Serialize(batch[i].Payload.SampleType)} }}";
                query.Append(CultureInfo.InvariantCulture, $" a{i}: queryPprofAnalyze(request: {request}) {{ tree {{ elements {{ total }} }} }}");
            }

            JsonNode data = await graph.DataAsync(query.Append(" }").ToString());
            for (int i = 0; i < batch.Length; i++)
            {
                UploadAttempt upload = batch[i];
                // The first element is the root: the whole profile.
                long root = (long)data[$"a{i}"]!["tree"]!["elements"]![0]!["total"]!;
                Assert.True(root == upload.Payload.Total, $"task {upload.TaskId}: the {upload.Payload.Name} upload analyses to {root}, the engine says {upload.Payload.Total}");
                analysed.Add((upload.TaskId, upload.InstanceId));
            }
        }

        return (stored.Count(u => u.Outcome == Outcome.CutOff), tasksStoredAnyway);
    }

    /// <summary>
    /// The checked-in profiles, and four of them padded to 2–6 MiB (seeded): big enough to be mid-stream when the
    /// kill comes. Each carries the engine's total for its bytes, which the server's analysis must equal.
    /// </summary>
    private static Payload[] Payloads(Random random)
    {
        (string Profile, string SampleType)[] profiles =
        [
            ("heap", "inuse_space"), ("allocs", "alloc_space"), ("cpu", "cpu"), ("goroutine", "goroutine"),
            ("block", "delay"), ("mutex", "delay"), ("threadcreate", "threadcreate"), ("heap-a", "inuse_space"), ("heap-b", "alloc_space"),
        ];
        var payloads = new List<Payload>();
        foreach ((string name, string sampleType) in profiles)
        {
            byte[] bytes = File.ReadAllBytes(TestData.Profile(name));
            payloads.Add(new Payload(name, bytes, sampleType, Engine.Total(bytes, sampleType), Engine.Read(bytes).SampleCount));
        }

        foreach (Payload small in payloads.Take(4).ToList())
        {
            int padding = random.Next(2 << 20, 6 << 20);
            byte[] padded = Pad(small.Bytes, padding, random);
            var large = new Payload($"{small.Name}+{padding >> 10}KiB", padded, small.SampleType, Engine.Total(padded, small.SampleType), Engine.Read(padded).SampleCount);
            // The padding must change the size only, or the test would compare against the wrong profile.
            Assert.Equal((small.Total, small.SampleCount), (large.Total, large.SampleCount));
            payloads.Add(large);
        }

        return [.. payloads];
    }

    /// <summary>The profile with <paramref name="padding"/> random bytes in an unknown field, gzipped again (random bytes do not shrink).</summary>
    private static byte[] Pad(byte[] gzipped, int padding, Random random)
    {
        using var plain = new MemoryStream();
        using (var gunzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress))
        {
            gunzip.CopyTo(plain);
        }

        WriteVarint(plain, (PaddingField << 3) | 2);
        WriteVarint(plain, (uint)padding);
        byte[] noise = new byte[padding];
        random.NextBytes(noise);
        plain.Write(noise);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain.GetBuffer(), 0, (int)plain.Length);
        }

        return compressed.ToArray();
    }

    private static void WriteVarint(Stream stream, uint value)
    {
        for (; value >= 0x80; value >>= 7)
        {
            stream.WriteByte((byte)(value | 0x80));
        }

        stream.WriteByte((byte)value);
    }

    private sealed record Payload(string Name, byte[] Bytes, string SampleType, long Total, int SampleCount)
    {
        public bool Large => Bytes.Length >= 1 << 20;
    }

    private enum Outcome
    {
        InFlight,
        Acknowledged,
        CutOff,
    }

    private enum UploadPhase
    {
        /// <summary>Metadata sent, waiting for the server's one answer.</summary>
        Opening,

        /// <summary>Sending the profile's chunks.</summary>
        Streaming,

        /// <summary>Every byte sent and half-closed: waiting for the server to store it and end the call.</summary>
        Completing,
    }

    /// <summary>Every upload and task creation tried, with how it ended; written by the workers, read after they stopped.</summary>
    private sealed class Ledger
    {
        public ConcurrentQueue<Creation> Creations { get; } = new();

        public ConcurrentQueue<UploadAttempt> Uploads { get; } = new();
    }

    private sealed class Creation(int round, string serviceId, string[] instanceIds, string @event)
    {
        public int Round { get; } = round;

        public string ServiceId { get; } = serviceId;

        public string[] InstanceIds { get; } = instanceIds;

        public string Event { get; } = @event;

        public string? TaskId { get; set; }

        public Outcome Outcome { get; set; }
    }

    private sealed class UploadAttempt(int round, string taskId, string instanceId, Payload payload)
    {
        public int Round { get; } = round;

        public string TaskId { get; } = taskId;

        public string InstanceId { get; } = instanceId;

        public Payload Payload { get; } = payload;

        public UploadPhase Phase { get; set; }

        public Outcome Outcome { get; set; }
    }

    /// <summary>A user's service of five instances, one per round, so that no task list outgrows its cap.</summary>
    private sealed class Fleet(int round)
    {
        public string ServiceId { get; } = SkyWalkingIds.ServiceId($"crash-fleet-{round}");

        public string[] InstanceIds => [.. Enumerable.Range(0, FleetSize).Select(i => SkyWalkingIds.InstanceId(ServiceId, $"fleet-{i}"))];
    }

    /// <param name="number">1 for the first round.</param>
    /// <param name="iterations">Uploads per agent in a round without a kill; <c>null</c>: until the kill.</param>
    private sealed class Round(int number, int? iterations)
    {
        private volatile bool _killed;

        public int Number { get; } = number;

        public int? Iterations { get; } = iterations;

        /// <summary>Set just before the kill: from then on a lost connection is the kill's doing, before it a failure.</summary>
        public bool Killed
        {
            get => _killed;
            set => _killed = value;
        }

        public string Summary(Ledger ledger)
        {
            UploadAttempt[] uploads = [.. ledger.Uploads.Where(u => u.Round == Number && u.Outcome == Outcome.Acknowledged)];
            int tasks = ledger.Creations.Count(c => c.Round == Number && c.Outcome == Outcome.Acknowledged);
            return $"{uploads.Length} uploads ({uploads.Count(u => u.Payload.Large)} of 2–6 MiB, {uploads.Sum(u => (long)u.Payload.Bytes.Length) >> 20} MiB) and {tasks} task creations";
        }

        /// <summary>What was under way when the kill came, read just before it.</summary>
        public string InFlight(Ledger ledger)
        {
            UploadAttempt[] uploads = [.. ledger.Uploads.Where(u => u.Round == Number && u.Outcome == Outcome.InFlight)];
            int tasks = ledger.Creations.Count(c => c.Round == Number && c.Outcome == Outcome.InFlight);
            return $"{uploads.Length} uploads ({uploads.Count(u => u.Phase == UploadPhase.Opening)} opening, "
                + $"{uploads.Count(u => u.Phase == UploadPhase.Streaming)} streaming content of which {uploads.Count(u => u.Phase == UploadPhase.Streaming && u.Payload.Large)} of 2–6 MiB, "
                + $"{uploads.Count(u => u.Phase == UploadPhase.Completing)} sent and awaiting the store) and {tasks} task creations";
        }
    }
}

/// <summary>The crash rounds on the embedded SQLite file in the data directory.</summary>
[Collection(CrashRounds.Name)]
public sealed class SqliteCrashSafetyTests(ITestOutputHelper output) : CrashSafetyTests(output)
{
    protected override string Provider => "SQLite";

    protected override Task<string[]> StorageAsync() => Task.FromResult<string[]>([]);
}

/// <summary>The crash rounds on a fresh database of the throw-away PostgreSQL cluster; only the Flamewright server is killed.</summary>
[Collection(CrashRounds.Name)]
public sealed class PostgresCrashSafetyTests(ITestOutputHelper output) : CrashSafetyTests(output)
{
    protected override string Provider => "PostgreSQL";

    protected override async Task<string[]> StorageAsync() =>
        ["--storage", "postgresql", "--postgres", await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync()];
}

/// <summary>The providers' crash runs one after the other: each keeps two dozen clients and a server busy on its own.</summary>
[CollectionDefinition(Name)]
public sealed class CrashRounds
{
    public const string Name = "Crash safety";
}
