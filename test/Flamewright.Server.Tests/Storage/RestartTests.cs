using Flamewright.Protocol.Pprof;

namespace Flamewright.Server.Tests.Storage;

/// <summary>Stopping the server and starting another on the same data directory loses nothing.</summary>
public sealed class RestartTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Tasks_logs_instances_and_uploads_survive_a_restart_and_stay_analysable() => Spec.Run(async () =>
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            byte[] cpu = TestData.Bytes("cpu");
            string cpuTask, heapTask, before;
            using (GoLikeAgent finished = server.Agent("go-service", "provider1"))
            using (GoLikeAgent failed = server.Agent("go-service", "provider2"))
            using (GoLikeAgent late = server.Agent("go-service", "provider3"))
            using (GraphQLClient graphql = server.GraphQL())
            {
                await late.RegisterAsync();
                cpuTask = await graphql.TaskTakenByAsync("CPU", finished, failed);
                server.Clock.Advance(TimeSpan.FromSeconds(1));
                await finished.UploadAsync(cpuTask, cpu);
                await failed.ReportErrorAsync(cpuTask, "profiling failed on purpose");
                heapTask = await graphql.CreateTaskAsync(late.ServiceId, [finished.InstanceId, late.InstanceId], "HEAP");
                Assert.Equal(heapTask, (await finished.PollAsync())?.TaskId);
                await finished.UploadAsync(heapTask, TestData.Bytes("heap"));
                before = await EverythingAUserSeesAsync(server, graphql, finished.ServiceId, cpuTask, heapTask);
            }

            server = await server.RestartAsync();

            using GoLikeAgent lateAgain = server.Agent("go-service", "provider3");
            using GraphQLClient graphqlAgain = server.GraphQL();
            Assert.Equal(before, await EverythingAUserSeesAsync(server, graphqlAgain, lateAgain.ServiceId, cpuTask, heapTask));
            Assert.Equal(Engine.Total(cpu, "cpu"), await graphqlAgain.AnalyzedTotalAsync(cpuTask));

            // The restarted server goes on with the task: the instance that had not asked yet gets it and uploads.
            Assert.Equal(heapTask, (await lateAgain.PollAsync())?.TaskId);
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await lateAgain.UploadAsync(heapTask, TestData.Bytes("heap")));
            Assert.Equal(2, (await graphqlAgain.UploadsAsync(heapTask)).Count);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_start_clears_the_temporary_uploads_a_killed_process_left_behind() => Spec.Run(async () =>
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            string folder = Path.Combine(server.DataDir, "uploads.tmp");
            Directory.CreateDirectory(folder);
            string leftover = Path.Combine(folder, "0123456789abcdef.upload");
            await File.WriteAllBytesAsync(leftover, new byte[1024]);

            server = await server.RestartAsync();

            Assert.False(File.Exists(leftover), "the leftover upload survived the start");
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    /// <summary>Every answer the UI would show for the service and its tasks, as one JSON text.</summary>
    private static async Task<string> EverythingAUserSeesAsync(TestServer server, GraphQLClient graphql, string serviceId, params string[] taskIds)
    {
        var seen = new List<string>
        {
            (await graphql.ServicesAsync("GENERAL")).ToJsonString(),
            (await graphql.InstancesAsync(server.Clock.LastMinutes(TimeSpan.FromMinutes(30)), serviceId)).ToJsonString(),
            (await graphql.TasksAsync(serviceId)).ToJsonString(),
        };
        foreach (string taskId in taskIds)
        {
            seen.Add((await graphql.ProgressAsync(taskId)).ToJsonString());
            seen.Add((await graphql.UploadsAsync(taskId)).ToJsonString());
            seen.Add((await graphql.AnalyzeAsync(new { taskId, instanceIds = Array.Empty<string>() })).Elements.ToJsonString());
        }

        return string.Join("\n", seen);
    }
}
