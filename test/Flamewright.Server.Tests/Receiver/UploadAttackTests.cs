using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Tasks;
using Flamewright.Server.Tests.Support;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>
/// Hostile agents in numbers: a thousand collect streams opened and dropped at once. The server lets go of every
/// buffer, file and slot, its memory comes back, nothing is stored, and GraphQL answers within a bound throughout.
/// Alone, because it measures the process's memory and latency.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class UploadAttackTests(ITestOutputHelper output)
{
    private const int Streams = 1000;

    /// <summary>
    /// What each stream that sends metadata sends after it, before it is dropped: 256 KiB, 125 MiB over the 500, in
    /// messages small enough that the pools they pass through keep little of them.
    /// </summary>
    private const int ChunkBytes = 64 * 1024;

    private const int Chunks = 4;

    /// <summary>
    /// Managed memory the whole process may hold while the streams are open, over what it held before: the 125 MiB
    /// received and the streams' own state, client side included. Buffers sized from the 30 MiB each stream
    /// declared would be 15 GB.
    /// </summary>
    private const long MemoryDuringBound = 512L * 1024 * 1024;

    /// <summary>
    /// Managed memory the process may keep once the streams are gone: what pools (ArrayPool.Shared, Kestrel's)
    /// grew to, far below the 125 MiB that kept buffers would hold.
    /// </summary>
    private const long MemoryAfterBound = 48L * 1024 * 1024;

    private const PprofProfilingStatus Success = PprofProfilingStatus.PprofProfilingSuccess;

    /// <summary>Longest a GraphQL query may take while the attack goes on.</summary>
    private static readonly TimeSpan s_graphQLBound = TimeSpan.FromSeconds(2);

    [Theory(Timeout = Spec.Timeout)]
    [InlineData(true)]
    [InlineData(false)]
    public Task A_thousand_collect_streams_opened_and_dropped_free_every_buffer_file_and_slot_while_GraphQL_answers_within_two_seconds(bool memoryParser) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            [nameof(ServerOptions.MemoryParser)] = memoryParser.ToString(),
            // Every stream that sends metadata holds a buffer: the attack is on memory, not on the cap.
            [nameof(ServerOptions.MaxConcurrentUploads)] = Streams.ToString(),
            // Nor on the memory reserved by what streams declare (which would let 17 in, the rest wait): on what buffers hold.
            [nameof(ServerOptions.MaxUploadMemoryMegabytes)] = (Streams / 2 * 30).ToString(),
            // A heap limit would have to hold that budget; this server runs inside the tests' process, which it never limits.
            [nameof(ServerOptions.ManagedHeapLimitMegabytes)] = "0",
        });
        using GoLikeAgent agent = server.Agent("go-service", "provider0");
        using GraphQLClient graphql = server.GraphQL();
        // Half the streams send metadata, each for an instance of its own (one instance's streams replace each other).
        string[] instances = [.. Enumerable.Range(0, Streams / 2).Select(i => $"provider{i}")];
        await agent.RegisterAsync();
        string taskId = await graphql.CreateTaskAsync(agent.ServiceId, instances.Select(i => SkyWalkingIds.InstanceId(agent.ServiceId, i)), "CPU", Scenarios.Duration);
        Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
        int declared = (int)new ServerOptions().MaxUploadBytes;
        long before = ManagedMemory();

        using var probe = LatencyProbe.Start(graphql, taskId);
        long during;
        using (GoLikeAgent attacker = server.Agent("go-service", "attacker"))
        {
            using var drop = new CancellationTokenSource();
            var calls = new ConcurrentBag<AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse>>();
            // Opened 64 at a time: in one process the attacker's own work shares the server's two cores and thread
            // pool, and a burst of a thousand would be measured against the server. All thousand are open at once.
            using var opening = new SemaphoreSlim(64);
            await Task.WhenAll(Enumerable.Range(0, Streams).Select(async i =>
            {
                await opening.WaitAsync();
                try
                {
                    var call = attacker.Pprof.collect(cancellationToken: drop.Token);
                    calls.Add(call);
                    if (i % 2 == 0)
                    {
                        await call.RequestStream.WriteAsync(new PprofData
                        {
                            Metadata = new PprofMetaData { Service = agent.Service, ServiceInstance = instances[i / 2], TaskId = taskId, Type = Success, ContentSize = declared },
                        });
                        Assert.True(await call.ResponseStream.MoveNext());
                        Assert.Equal(Success, call.ResponseStream.Current.Status);
                        for (int chunk = 0; chunk < Chunks; chunk++)
                        {
                            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(new byte[ChunkBytes]) });
                        }
                    }
                }
                finally
                {
                    opening.Release();
                }
            }));
            await Eventually.HoldsAsync(
                () => server.UploadLoad is { Streams: Streams, Receiving: Streams / 2, BufferedBytes: Streams / 2 * Chunks * ChunkBytes },
                $"the server holds {Streams} streams, {Streams / 2} receiving, {Streams / 2} × {Chunks * ChunkBytes} bytes", TimeSpan.FromSeconds(20));
            during = ManagedMemory();

            await drop.CancelAsync();
            foreach (var call in calls)
            {
                call.Dispose();
            }

            await server.AllUploadsReleasedAsync(TimeSpan.FromSeconds(30));
        }

        (TimeSpan slowest, TimeSpan median, int queries) = await probe.StopAsync();
        long after = ManagedMemory();
        output.WriteLine($"memoryParser={memoryParser}: managed memory before {Mib(before)}, with {Streams} streams open {Mib(during)}, after {Mib(after)}; " +
            $"GraphQL during the attack: {queries} queries, median {median.TotalMilliseconds:F0} ms, slowest {slowest.TotalMilliseconds:F0} ms");
        Assert.True(queries >= 3, $"only {queries} GraphQL queries ran during the attack");
        Assert.True(slowest < s_graphQLBound, $"a GraphQL query took {slowest.TotalMilliseconds:F0} ms during the attack");
        Assert.True(during - before < MemoryDuringBound, $"{Mib(during - before)} more managed memory with the streams open");
        Assert.True(after - before < MemoryAfterBound, $"{Mib(after - before)} more managed memory after the streams were gone");
        string temporary = Path.Combine(server.DataDir, "uploads.tmp");
        Assert.Empty(Directory.Exists(temporary) ? Directory.GetFiles(temporary) : []);

        JsonNode progress = await graphql.ProgressAsync(taskId);
        Assert.All(progress["instances"]!.AsArray(), i => Assert.Equal(
            ("FAILED", "the upload failed: the upload stream ended abruptly; nothing was stored"), ((string)i!["state"]!, (string?)i["reason"])));
        await graphql.AssertNothingStoredAndStillServingAsync(agent, taskId);
    });

    /// <summary>The managed heap after a full, compacting collection: what is still referenced.</summary>
    private static long ManagedMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";

    /// <summary>Asks for the attacked task's progress, as the UI polls it, again and again, and times each answer.</summary>
    private sealed class LatencyProbe : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TimeSpan> _latencies = [];

        private Task? _loop;

        public static LatencyProbe Start(GraphQLClient graphql, string taskId)
        {
            var probe = new LatencyProbe();
            probe._loop = probe.RunAsync(graphql, taskId);
            return probe;
        }

        public async Task<(TimeSpan Slowest, TimeSpan Median, int Count)> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop!;
            _latencies.Sort();
            return (_latencies[^1], _latencies[_latencies.Count / 2], _latencies.Count);
        }

        public void Dispose() => _stop.Dispose();

        private async Task RunAsync(GraphQLClient graphql, string taskId)
        {
            while (!_stop.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                JsonNode answer = await graphql.PostAsync(
                    "query ($id: String!) { queryPprofTaskProgress(taskId: $id) { logs { instanceId operationType message } errorInstanceIds } }", new { id = taskId });
                _latencies.Add(Stopwatch.GetElapsedTime(start));
                Assert.True(answer["errors"] is null, $"GraphQL errors during the attack: {answer["errors"]?.ToJsonString()}");
                try
                {
                    await Task.Delay(100, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }
}
