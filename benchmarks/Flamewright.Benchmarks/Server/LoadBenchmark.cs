using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Model;
using Flamewright.Server.Tasks;
using Grpc.Core;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// The load of benchmarks/README.md, "Server under load": simulated Go agents (<see cref="GoLikeAgent"/>, each its own HTTP/2 connection) spread over
/// <see cref="Services"/> services poll one real server process (SQLite, default settings) and upload profiles of
/// mixed sizes up to the 30 MiB limit for a bounded time, while an operator creates tasks and users query. Then an
/// audit: every upload an agent saw acknowledged is stored exactly once, with one EXECUTION_FINISHED; uploads the
/// server refused are counted apart, with their reasons. Exits 1 if anything was lost or counted twice.
/// </summary>
internal static class LoadBenchmark
{
    /// <summary>Services the agents are spread over; 200 agents make 20 instances each.</summary>
    public const int Services = 10;

    /// <summary>People querying at once unless told otherwise, each asking again after <see cref="UserThinks"/>.</summary>
    public const int DefaultUsers = 4;

    private const int MiB = 1024 * 1024;

    /// <summary>The operator creates one task every this often, round-robin over the services: each gets one every 3 s.</summary>
    private static readonly TimeSpan TaskEvery = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// An idle agent polls this often. The Go agent polls every few seconds; the server answers a poll from its
    /// store whatever the interval, so a short one only adds polls.
    /// </summary>
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan UserThinks = TimeSpan.FromMilliseconds(250);

    /// <summary>The operator's events, in turn per service. CPU runs a minute, so at most one per service per minute is created.</summary>
    private static readonly string[] Events = ["HEAP", "ALLOCS", "CPU"];

    /// <param name="seconds">How long agents upload and users query.</param>
    /// <param name="agentCount">Simulated Go agents, spread over the services.</param>
    /// <param name="users">Users querying at once.</param>
    /// <param name="storage"><c>sqlite</c> (a fresh data directory) or <c>postgresql</c> (a database of a throw-away durable cluster).</param>
    /// <param name="usersAsk">
    /// <c>page</c>: users ask for a task's graph as the web UI does (the view for a 1,400-pixel graph and 300 top rows);
    /// <c>analyze</c>: as SkyWalking's UI does (<c>queryPprofAnalyze</c>, every element).
    /// </param>
    public static async Task<int> RunAsync(int seconds, int agentCount, int users = DefaultUsers, string storage = "sqlite", string usersAsk = "page")
    {
        if (storage is not ("sqlite" or "postgresql"))
        {
            Console.Error.WriteLine($"load: storage must be sqlite or postgresql, not '{storage}'");
            return 2;
        }

        if (usersAsk is not ("page" or "analyze"))
        {
            Console.Error.WriteLine($"load: users ask as the page or analyze, not '{usersAsk}'");
            return 2;
        }

        users = Math.Max(0, users);
        seconds = Math.Max(5, seconds);
        agentCount = Math.Max(Services, agentCount);
        UploadMix mix = UploadMix.Make();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load: {agentCount} agents over {Services} services, {seconds} s; a task every {TaskEvery.TotalMilliseconds:F0} ms round-robin; {users} users querying ({usersAsk}); {storage}"));
        string dataDirectory = MeasuredServer.NewDataDirectory("load");
        // The cluster runs on the same two cores, as in the storage comparison; the RSS below is the server's alone.
        string? postgres = storage == "postgresql" ? await (await PostgresCluster.StartAsync(durable: true)).CreateDatabaseAsync() : null;
        try
        {
            using MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory, postgres);
            var run = new LoadRun(server, agentCount, users, mix, usersAsk == "page");
            LoadFigures? figures = await run.RunAsync(TimeSpan.FromSeconds(seconds));
            Console.WriteLine();
            if (figures is null)
            {
                Console.WriteLine($"the server process ended during the run (RSS at its last sample {Size(run.LastResidentBytes)}): no audit; dmesg says whether the OOM killer ended it");
                return 2;
            }

            figures.Print();
            Audit audit = await run.AuditAsync();
            audit.Print();
            return audit.Clean ? 0 : 1;
        }
        finally
        {
            // A server on PostgreSQL may never have needed its data directory.
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>One profile an agent may upload, and how often it is picked (out of the weights' sum).</summary>
    private sealed record ProfileKind(string Name, byte[] Bytes, int Weight);

    /// <summary>The profiles the agents upload, generated once before the run.</summary>
    private sealed class UploadMix
    {
        private readonly ProfileKind[] _kinds;
        private readonly int _totalWeight;

        private UploadMix(ProfileKind[] kinds)
        {
            _kinds = kinds;
            _totalWeight = kinds.Sum(k => k.Weight);
        }

        public IReadOnlyList<ProfileKind> Kinds => _kinds;

        /// <summary>
        /// CPU profiles from <see cref="LargeProfileGenerator"/>, as runtime/pprof writes them: mostly tens of KiB to
        /// 1 MiB, some several MiB, a few near the limit. The near-limit ones are a realistic profile of a million
        /// distinct stacks (the costliest to parse) and a 1 MiB one padded with incompressible bytes (the cheapest to
        /// parse at that size), both padded to 29.5 MiB. Every profile is a CPU profile whatever the task's event: the
        /// server does not check, and a task's analysis then merges profiles of one kind.
        /// </summary>
        public static UploadMix Make()
        {
            var clock = Stopwatch.StartNew();
            const int NearLimit = 29 * MiB + MiB / 2;
            // A small service's profile comes from a program of few functions: the generator's 6,000 alone make 0.5 MiB.
            (string Name, int Functions, int Stacks, int PadTo, int Weight)[] shapes =
            [
                ("300 functions, 100 stacks", 300, 100, 0, 25),
                ("1,000 functions, 1k stacks", 1_000, 1_000, 0, 25),
                ("6,000 functions, 5k stacks", 6_000, 5_000, 0, 20),
                ("6,000 functions, 26k stacks", 6_000, 26_000, 0, 15),
                ("6,000 functions, 100k stacks", 6_000, 100_000, 0, 8),
                ("26k stacks padded", 6_000, 26_000, 8 * MiB, 5),
                ("26k stacks padded", 6_000, 26_000, NearLimit, 1),
                ("1M stacks padded", 6_000, 1_000_000, NearLimit, 1),
            ];
            var kinds = new List<ProfileKind>();
            foreach (var same in shapes.GroupBy(s => (s.Functions, s.Stacks)))
            {
                Profile profile = new LargeProfileGenerator(functionCount: same.Key.Functions).Generate(same.Key.Stacks);
                foreach ((string name, _, _, int padTo, int weight) in same)
                {
                    byte[] bytes = AgentProfiles.Padded(profile, padTo);
                    if (bytes.Length > 30 * MiB)
                    {
                        throw new InvalidOperationException($"{name}: {bytes.Length:N0} bytes, over the 30 MiB limit");
                    }

                    kinds.Add(new ProfileKind($"{name}, {Size(bytes.Length)}", bytes, weight));
                }
            }

            var mix = new UploadMix([.. kinds.OrderBy(k => k.Bytes.Length)]);
            foreach (ProfileKind kind in mix._kinds)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  profile {kind.Name} ({kind.Bytes.Length:N0} bytes): {kind.Weight * 100.0 / mix._totalWeight:F0}% of uploads"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  mean upload {Size((long)kinds.Sum(k => (double)k.Bytes.Length * k.Weight) / mix._totalWeight)}; generated in {clock.Elapsed.TotalSeconds:F1} s"));
            return mix;
        }

        public ProfileKind Pick(Random random)
        {
            int ticket = random.Next(_totalWeight);
            foreach (ProfileKind kind in _kinds)
            {
                ticket -= kind.Weight;
                if (ticket < 0)
                {
                    return kind;
                }
            }

            return _kinds[^1];
        }
    }

    /// <summary>
    /// One upload as its agent saw it. Acknowledged: the server answered the metadata with success and ended the
    /// stream with OK, which it does only once the profile is stored. Refused: the server ended it with a status
    /// or answered the metadata otherwise. Failed: anything else (the agent's own deadline, a broken connection).
    /// </summary>
    private sealed record UploadAttempt(string TaskId, string InstanceId, ProfileKind Kind, TimeSpan Ended, double Milliseconds, string? Refused, string? Failed)
    {
        public bool Acknowledged => Refused is null && Failed is null;
    }

    /// <summary>The run itself: agents, operator, users, and what they saw.</summary>
    private sealed class LoadRun(MeasuredServer server, int agentCount, int userCount, UploadMix mix, bool asThePage)
    {
        private readonly ConcurrentQueue<UploadAttempt> _uploads = new();
        private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _queries = new();

        // Per kind of analysis query, per server phase (its Server-Timing), the milliseconds of each request; a phase a
        // request did not meet counts 0 for it, so that percentiles are over every request.
        private readonly ConcurrentDictionary<string, ConcurrentQueue<Dictionary<string, double>>> _phases = new();
        private readonly ConcurrentDictionary<string, int> _queryErrors = new();
        private readonly ConcurrentDictionary<string, long> _largestAnswers = new();
        private readonly ConcurrentQueue<string> _tasks = new();
        private readonly Stopwatch _clock = new();
        private int _alreadyProfiling;
        private int _pollFailures;
        private int _inFlight;
        private int _peakInFlight;

        private static string ServiceName(int service) => $"load-service-{service:D2}";

        /// <summary>The server's resident memory at the last sample, which outlives the server.</summary>
        public long LastResidentBytes { get; private set; }

        /// <summary>The figures, or <c>null</c> when the server process ended before the run did.</summary>
        public async Task<LoadFigures?> RunAsync(TimeSpan duration)
        {
            var agents = new List<GoLikeAgent>();
            for (int i = 0; i < agentCount; i++)
            {
                agents.Add(new GoLikeAgent(server.GrpcAddress, ServiceName(i % Services), $"instance-{i / Services:D3}"));
            }

            try
            {
                // Registered before the clock starts: every task names instances the server knows.
                await Task.WhenAll(agents.Select(a => a.RegisterAsync()));
                using var stop = new CancellationTokenSource();
                var load = new MachineLoad();
                double benchCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, serverCpu = server.CpuSeconds;
                long peakSampled = 0;
                int ticks = 0;
                _clock.Start();
                using var sampler = new Timer(_ =>
                {
                    long rss = server.ResidentBytes;
                    LastResidentBytes = rss > 0 ? rss : LastResidentBytes;
                    InterlockedMax(ref peakSampled, rss);
                    if (Interlocked.Increment(ref ticks) % 5 == 0)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {_clock.Elapsed.TotalSeconds:F0} s: {_uploads.Count(u => u.Acknowledged)} uploads acknowledged, {_uploads.Count(u => !u.Acknowledged)} not, " +
                            $"{Volatile.Read(ref _inFlight)} in flight; server RSS {Size(rss)}"));
                    }
                }, null, 0, 1000);
                Task operator_ = OperateAsync(agents, stop.Token);
                Task[] users = [.. Enumerable.Range(0, userCount).Select(u => QueryAsync(new Random(1000 + u), stop.Token))];
                Task[] agentLoops = [.. agents.Select((a, i) => AgentAsync(a, new Random(i), stop.Token))];
                double windowSeconds = 0;
                using CancellationTokenRegistration stopped = stop.Token.Register(() => windowSeconds = _clock.Elapsed.TotalSeconds);
                stop.CancelAfter(duration);
                // Uploads and queries in progress at the end run to their end: they count in the audit and the
                // latencies, not in the rates.
                await Task.WhenAll([operator_, .. users, .. agentLoops]);
                double drained = _clock.Elapsed.TotalSeconds - windowSeconds;
                await sampler.DisposeAsync();
                if (server.HasExited)
                {
                    return null;
                }

                benchCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - benchCpu;
                serverCpu = server.CpuSeconds - serverCpu;
                UploadAttempt[] inWindow = [.. _uploads.Where(u => u.Acknowledged && u.Ended.TotalSeconds <= windowSeconds)];
                return new LoadFigures(
                    agentCount, windowSeconds, drained, inWindow.Length, inWindow.Sum(u => (long)u.Kind.Bytes.Length),
                    [.. _uploads], _queries.ToDictionary(q => q.Key, q => q.Value.ToArray()), _phases.ToDictionary(p => p.Key, p => p.Value.ToArray()),
                    new Dictionary<string, long>(_largestAnswers), new Dictionary<string, int>(_queryErrors),
                    _tasks.Count, _alreadyProfiling, _pollFailures, _peakInFlight,
                    server.PeakResidentBytes, Math.Max(peakSampled, server.ResidentBytes), server.ResidentBytes,
                    serverCpu / _clock.Elapsed.TotalSeconds, benchCpu / _clock.Elapsed.TotalSeconds, load.OtherCores(serverCpu + benchCpu));
            }
            finally
            {
                agents.ForEach(a => a.Dispose());
            }
        }

        /// <summary>Creates a task every <see cref="TaskEvery"/>, for every instance of the next service in turn.</summary>
        private async Task OperateAsync(List<GoLikeAgent> agents, CancellationToken stop)
        {
            using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
            string[][] instanceIds = [.. Enumerable.Range(0, Services).Select(s =>
            {
                string serviceId = SkyWalkingIds.ServiceId(ServiceName(s));
                return agents.Where((_, i) => i % Services == s).Select(a => SkyWalkingIds.InstanceId(serviceId, a.Instance)).ToArray();
            })];
            using var ticks = new PeriodicTimer(TaskEvery);
            for (int turn = 0; !stop.IsCancellationRequested; turn++)
            {
                int service = turn % Services;
                string events = Events[turn / Services % Events.Length];
                JsonNode? result = await TimedAsync(graphql, "createPprofTask",
                    "mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }",
                    new { r = new { serviceId = SkyWalkingIds.ServiceId(ServiceName(service)), serviceInstanceIds = instanceIds[service], events, duration = events == "CPU" ? 1 : (int?)null } });
                switch ((string?)result?["createPprofTask"]?["code"])
                {
                    case "SUCCESS":
                        _tasks.Enqueue((string)result!["createPprofTask"]!["id"]!);
                        break;
                    case "ALREADY_PROFILING_ERROR":
                        // The service's CPU task of the last minute still runs: SkyWalking's rule, expected here.
                        Interlocked.Increment(ref _alreadyProfiling);
                        break;
                    case { } other:
                        _queryErrors.AddOrUpdate("createPprofTask " + other, 1, (_, n) => n + 1);
                        break;
                }

                try
                {
                    await ticks.WaitForNextTickAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>A user: a service's task list, one of its tasks' progress and logs, then the graph of what it has uploaded (as the page or SkyWalking's UI asks).</summary>
        private async Task QueryAsync(Random random, CancellationToken stop)
        {
            using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
            while (!stop.IsCancellationRequested)
            {
                string serviceId = SkyWalkingIds.ServiceId(ServiceName(random.Next(Services)));
                JsonNode? list = await TimedAsync(graphql, "queryPprofTaskList",
                    "query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) { errorReason tasks { id serviceId serviceInstanceIds createTime events duration } } }",
                    new { r = new { serviceId } });
                JsonArray tasks = list?["queryPprofTaskList"]?["tasks"]?.AsArray() ?? [];
                // Newest first: past the newest two, most tasks are finished, as the ones a user opens mostly are.
                if (tasks.Count > 0)
                {
                    string taskId = (string)tasks[Math.Min(tasks.Count - 1, 2 + random.Next(Math.Max(1, tasks.Count - 2)))]!["id"]!;
                    JsonNode? progress = await TimedAsync(graphql, "queryPprofTaskProgress",
                        "query ($id: String!) { queryPprofTaskProgress(taskId: $id) { logs { id instanceId instanceName operationType operationTime message } errorInstanceIds successInstanceIds } }",
                        new { id = taskId });
                    string[] uploaded = [.. progress?["queryPprofTaskProgress"]?["successInstanceIds"]?.AsArray().Select(i => (string)i!) ?? []];
                    if (uploaded.Length > 0 && asThePage)
                    {
                        await TimedAsync(graphql, "first look (queryPprofFlameView + queryPprofTop)", PageBenchmark.NewPage,
                            new { r = new { taskId, instanceIds = uploaded }, w = PageBenchmark.Width, z = Array.Empty<string>() }, keep: false);
                    }
                    else if (uploaded.Length > 0)
                    {
                        await TimedAsync(graphql, "queryPprofAnalyze",
                            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total self } } } }",
                            new { r = new { taskId, instanceIds = uploaded } }, keep: false);
                    }
                }

                try
                {
                    await Task.Delay(UserThinks, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// The time from sending a request to having read its whole answer; an error answer counts apart, not in the
        /// times. With <paramref name="keep"/> false the answer is only checked for errors and then dropped, without a
        /// tree of JSON nodes: an analysis can answer with tens of MiB, which as <see cref="JsonNode"/>s would take
        /// this process GiBs.
        /// </summary>
        private async Task<JsonNode?> TimedAsync(GraphQLClient graphql, string kind, string query, object variables, bool keep = true)
        {
            try
            {
                (byte[] body, TimeSpan elapsed, string timing) = await graphql.TimedPostWithServerTimingAsync(query, variables);
                JsonNode? data = null;
                if (keep)
                {
                    data = GraphQLClient.Data(body);
                }
                else
                {
                    GraphQLClient.CheckNoErrors(body);
                }

                _queries.GetOrAdd(kind, _ => new ConcurrentQueue<double>()).Enqueue(elapsed.TotalMilliseconds);
                if (!keep)
                {
                    _phases.GetOrAdd(kind, _ => new ConcurrentQueue<Dictionary<string, double>>())
                        .Enqueue(GraphQLClient.Phases(timing).GroupBy(p => p.Phase).ToDictionary(g => g.Key, g => g.Sum(p => p.Milliseconds)));
                }
                _largestAnswers.AddOrUpdate(kind, body.Length, (_, largest) => Math.Max(largest, body.Length));
                return data;
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
            {
                _queryErrors.AddOrUpdate($"{kind}: {Reason(e.Message)}", 1, (_, n) => n + 1);
                return null;
            }
        }

        /// <summary>Polls; takes each task handed out, uploads a profile picked from the mix, and polls again at once.</summary>
        private async Task AgentAsync(GoLikeAgent agent, Random random, CancellationToken stop)
        {
            string instanceId = SkyWalkingIds.InstanceId(SkyWalkingIds.ServiceId(agent.Service), agent.Instance);
            // Agents start spread over a poll interval, as a fleet does.
            await Delay(TimeSpan.FromMilliseconds(random.Next((int)PollEvery.TotalMilliseconds)), stop);
            while (!stop.IsCancellationRequested)
            {
                string? taskId;
                try
                {
                    taskId = (await agent.PollAsync())?.TaskId;
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref _pollFailures);
                    taskId = null;
                }

                if (taskId is null)
                {
                    await Delay(PollEvery, stop);
                    continue;
                }

                ProfileKind kind = mix.Pick(random);
                long start = Stopwatch.GetTimestamp();
                InterlockedMax(ref _peakInFlight, Interlocked.Increment(ref _inFlight));
                string? refused = null, failed = null;
                try
                {
                    await agent.UploadAcceptedAsync(taskId, kind.Bytes);
                }
                catch (RpcException e) when (e.StatusCode is not (StatusCode.Cancelled or StatusCode.Unavailable or StatusCode.Internal)
                    && !(e.StatusCode == StatusCode.DeadlineExceeded && e.Status.Detail.Length == 0))
                {
                    refused = $"{e.StatusCode}: {Reason(e.Status.Detail)}";
                }
                catch (UploadNotAcceptedException e)
                {
                    refused = $"metadata answered {e.Answer}";
                }
                catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or ExpectationException)
                {
                    failed = Reason(e.Message);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }

                _uploads.Enqueue(new UploadAttempt(taskId, instanceId, kind, _clock.Elapsed, Stopwatch.GetElapsedTime(start).TotalMilliseconds, refused, failed));
            }
        }

        private static async Task Delay(TimeSpan delay, CancellationToken stop)
        {
            try
            {
                await Task.Delay(delay, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>
        /// Reads back, per task, the stored uploads and the log, and holds them against what the agents saw.
        /// Done after the run, when nothing else asks the server anything.
        /// </summary>
        public async Task<Audit> AuditAsync()
        {
            using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
            var audit = new Audit();
            var seen = _uploads.ToLookup(u => (u.TaskId, u.InstanceId));
            foreach (string taskId in _tasks)
            {
                JsonArray stored = (await graphql.DataAsync(
                    "query ($id: ID!) { queryPprofUploads(taskId: $id) { instanceId compressedBytes } }", new { id = taskId }))["queryPprofUploads"]!.AsArray();
                JsonArray logs = (await graphql.DataAsync(
                    "query ($id: String!) { queryPprofTaskProgress(taskId: $id) { logs { instanceId operationType message } } }", new { id = taskId }))
                    ["queryPprofTaskProgress"]!["logs"]!.AsArray();
                var storedBytes = stored.GroupBy(u => (string)u!["instanceId"]!).ToDictionary(g => g.Key, g => g.Select(u => (long)u!["compressedBytes"]!).ToArray());
                var finished = logs.Where(l => (string?)l!["operationType"] == nameof(TaskLogOperation.EXECUTION_FINISHED))
                    .GroupBy(l => (string)l!["instanceId"]!).ToDictionary(g => g.Key, g => g.Count());
                foreach (string instanceId in storedBytes.Keys.Union(finished.Keys).Union(seen.Where(g => g.Key.TaskId == taskId).Select(g => g.Key.InstanceId)))
                {
                    UploadAttempt[] attempts = [.. seen[(taskId, instanceId)]];
                    audit.Check(taskId, instanceId, attempts, storedBytes.GetValueOrDefault(instanceId) ?? [], finished.GetValueOrDefault(instanceId));
                }
            }

            foreach (UploadAttempt attempt in _uploads.Where(u => !_tasks.Contains(u.TaskId)))
            {
                audit.Problem($"task {attempt.TaskId} was handed to {attempt.InstanceId} but never created");
            }

            return audit;
        }

        private static void InterlockedMax(ref long location, long value)
        {
            long current;
            while (value > (current = Interlocked.Read(ref location)) && Interlocked.CompareExchange(ref location, value, current) != current)
            {
            }
        }

        private static void InterlockedMax(ref int location, int value)
        {
            int current;
            while (value > (current = Volatile.Read(ref location)) && Interlocked.CompareExchange(ref location, value, current) != current)
            {
            }
        }
    }

    /// <summary>A reason with task ids and numbers taken out, so that the same reason groups as one.</summary>
    private static string Reason(string message)
    {
        var text = new System.Text.StringBuilder(message.Length);
        foreach (string word in message.Split(' '))
        {
            text.Append(word.Any(char.IsDigit) ? "N" : word).Append(' ');
        }

        return text.ToString().TrimEnd();
    }

    private static string Size(long bytes) =>
        bytes >= MiB ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)MiB:F1} MiB") : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F0} KiB");

    /// <summary>What the run measured.</summary>
    private sealed record LoadFigures(
        int Agents, double WindowSeconds, double DrainSeconds, int UploadsInWindow, long BytesInWindow,
        UploadAttempt[] Uploads, Dictionary<string, double[]> Queries, Dictionary<string, Dictionary<string, double>[]> Phases,
        Dictionary<string, long> LargestAnswers, Dictionary<string, int> QueryErrors, int Tasks, int AlreadyProfiling, int PollFailures, int PeakInFlight,
        long ServerPeakRss, long ServerPeakSampledRss, long ServerEndRss, double ServerCores, double BenchmarkCores, double OtherCores)
    {
        public void Print()
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Agents} agents, {WindowSeconds:F1} s (then {DrainSeconds:F1} s for the uploads and queries in progress to end); {Tasks} tasks created ({AlreadyProfiling} CPU tasks refused as ALREADY_PROFILING)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"uploads acknowledged within the {WindowSeconds:F0} s: {UploadsInWindow} = {UploadsInWindow / WindowSeconds:F1} uploads/s, {BytesInWindow / (double)MiB / WindowSeconds:F1} MiB/s " +
                $"({BytesInWindow / (double)MiB:F0} MiB); at most {PeakInFlight} uploads in flight at once; {PollFailures} failed polls"));
            Console.WriteLine("upload latency (agent's, collect opened to stream ended), acknowledged uploads by profile:");
            foreach (IGrouping<string, UploadAttempt> kind in Uploads.Where(u => u.Acknowledged).GroupBy(u => u.Kind.Name).OrderBy(g => g.First().Kind.Bytes.Length))
            {
                Console.WriteLine($"  {kind.Key,-36} {Latency([.. kind.Select(u => u.Milliseconds)])}");
            }

            Console.WriteLine("query latency (request sent to answer read):");
            foreach ((string kind, double[] times) in Queries.OrderBy(q => q.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {kind,-36} {Latency(times)}  largest answer {Size(LargestAnswers.GetValueOrDefault(kind))}");
            }

            Console.WriteLine($"  {"all queries",-36} {Latency([.. Queries.Values.SelectMany(t => t)])}");
            foreach ((string kind, Dictionary<string, double>[] requests) in Phases.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                // Summed per request over the analyses it asked for (docs/server.md, "Server-Timing"); 0 when it met none.
                Console.WriteLine($"  {kind}: the server's phases, per request");
                foreach (string phase in requests.SelectMany(r => r.Keys).Distinct().OrderBy(p => p == "execute" ? "" : p, StringComparer.Ordinal))
                {
                    Console.WriteLine($"    {phase,-34} {Latency([.. requests.Select(r => r.GetValueOrDefault(phase))])}");
                }

                // The slow tail, request by request: which phases a slow look spent its time in.
                Dictionary<string, double>[] slowest = [.. requests.OrderByDescending(r => r.GetValueOrDefault("execute")).Take(5)];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    over 3 s on the server: {requests.Count(r => r.GetValueOrDefault("execute") > 3000)} of {requests.Length}; the slowest:"));
                foreach (Dictionary<string, double> request in slowest)
                {
                    Console.WriteLine("      " + string.Join(", ", request.OrderBy(p => p.Key == "execute" ? "" : p.Key, StringComparer.Ordinal)
                        .Where(p => p.Value >= 1).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:F0}"))));
                }
            }

            foreach ((string error, int count) in QueryErrors.OrderByDescending(e => e.Value))
            {
                Console.WriteLine($"  query errors: {count} x {error}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"server: peak RSS {Size(ServerPeakRss)} (VmHWM; sampled each second: {Size(ServerPeakSampledRss)}), RSS at the end {Size(ServerEndRss)}; " +
                $"CPU {ServerCores:F2} cores; agents and users {BenchmarkCores:F2} cores; other processes {OtherCores:F2} cores"));
        }

        private static string Latency(double[] times)
        {
            if (times.Length == 0)
            {
                return "none";
            }

            Array.Sort(times);
            double P(double q) => times[Math.Min(times.Length - 1, Math.Max(0, (int)Math.Ceiling(times.Length * q) - 1))];
            return string.Create(CultureInfo.InvariantCulture, $"n {times.Length,6}  p50 {P(0.5),8:F0} ms  p99 {P(0.99),8:F0} ms  max {times[^1],8:F0} ms");
        }
    }

    /// <summary>The zero-loss audit: what the agents saw against what the server stored and logged.</summary>
    private sealed class Audit
    {
        private readonly List<string> _problems = [];
        private readonly Dictionary<string, int> _refusals = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
        private int _acknowledged, _storedOnce, _lost, _doubled, _storedUnacknowledged;

        public bool Clean => _lost == 0 && _doubled == 0 && _problems.Count == 0;

        public void Problem(string text) => _problems.Add(text);

        /// <summary>One task's instance: what its agent saw, the uploads stored for it, and its EXECUTION_FINISHED logs.</summary>
        public void Check(string taskId, string instanceId, UploadAttempt[] attempts, long[] stored, int finished)
        {
            string where = $"task {taskId}, instance {instanceId}";
            if (attempts.Length > 1)
            {
                Problem($"{where}: the agent took the task {attempts.Length} times");
            }

            foreach (UploadAttempt attempt in attempts)
            {
                if (attempt.Refused is { } refused)
                {
                    _refusals[refused] = _refusals.GetValueOrDefault(refused) + 1;
                }
                else if (attempt.Failed is { } failed)
                {
                    _failures[failed] = _failures.GetValueOrDefault(failed) + 1;
                }
            }

            if (stored.Length > 1 || finished > 1)
            {
                _doubled++;
                Problem($"{where}: stored {stored.Length} times, {finished} EXECUTION_FINISHED logs");
            }

            UploadAttempt? acknowledged = attempts.FirstOrDefault(a => a.Acknowledged);
            if (acknowledged is not null)
            {
                _acknowledged++;
                if (stored.Length == 0 || finished == 0)
                {
                    _lost++;
                    Problem($"{where}: acknowledged, but stored {stored.Length} times with {finished} EXECUTION_FINISHED logs");
                }
                else if (stored.Length == 1 && finished == 1)
                {
                    if (stored[0] == acknowledged.Kind.Bytes.Length)
                    {
                        _storedOnce++;
                    }
                    else
                    {
                        Problem($"{where}: {acknowledged.Kind.Bytes.Length} bytes sent, {stored[0]} stored");
                    }
                }
            }
            else if (stored.Length > 0)
            {
                // The server may finish storing just as the agent gives up on the call: not lost, not double, but said.
                _storedUnacknowledged++;
                if (attempts.Any(a => a.Refused is not null))
                {
                    Problem($"{where}: refused, yet stored");
                }
            }
            else if (finished > 0)
            {
                Problem($"{where}: EXECUTION_FINISHED without a stored upload");
            }
        }

        public void Print()
        {
            Console.WriteLine();
            Console.WriteLine($"audit: {_acknowledged} uploads acknowledged; {_storedOnce} stored exactly once with the bytes sent and one EXECUTION_FINISHED; " +
                $"{_lost} lost; {_doubled} double-counted; {_storedUnacknowledged} stored though the agent saw no acknowledgement");
            Console.WriteLine($"refused by the server (not lost: the agent was told): {_refusals.Values.Sum()}");
            foreach ((string reason, int count) in _refusals.OrderByDescending(r => r.Value))
            {
                Console.WriteLine($"  {count,6} x {reason}");
            }

            Console.WriteLine($"failed on the agent's side: {_failures.Values.Sum()}");
            foreach ((string reason, int count) in _failures.OrderByDescending(r => r.Value))
            {
                Console.WriteLine($"  {count,6} x {reason}");
            }

            foreach (string problem in _problems.Take(20))
            {
                Console.WriteLine("  PROBLEM: " + problem);
            }

            Console.WriteLine(Clean ? "audit: clean" : $"audit: FAILED ({_problems.Count} problems)");
        }
    }
}
