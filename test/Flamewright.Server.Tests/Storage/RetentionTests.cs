using System.Net;

namespace Flamewright.Server.Tests.Storage;

/// <summary>SW_CORE_RECORD_DATA_TTL: what is older than the record TTL goes, with everything that hangs on it.</summary>
public sealed class RetentionTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_retention_pass_removes_tasks_logs_uploads_and_idle_instances_older_than_the_TTL_and_keeps_the_rest() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_CORE_RECORD_DATA_TTL"] = "2" });
        using GoLikeAgent gone = server.Agent("go-service", "provider1");
        using GoLikeAgent alive = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string oldTask = await graphql.TaskWithUploadsAsync("HEAP", (gone, TestData.Bytes("heap")));
        server.Clock.Advance(TimeSpan.FromDays(1.5));
        string recentTask = await graphql.TaskWithUploadsAsync("HEAP", (alive, TestData.Bytes("heap")));
        server.Clock.Advance(TimeSpan.FromDays(1));
        await alive.KeepAliveAsync();
        string recentBefore = (await graphql.ProgressAsync(recentTask)).ToJsonString();

        int deleted = await server.SweepExpiredAsync();

        Assert.Equal(1, deleted);
        Assert.Equal([recentTask], (await graphql.TasksAsync(alive.ServiceId)).Select(t => (string)t!["id"]!));
        Assert.Equal($"unknown task '{oldTask}'", await graphql.ErrorAsync("query ($id: String!) { queryPprofTaskProgress(taskId: $id) { logs { id } } }", new { id = oldTask }));
        Assert.Empty(await graphql.UploadsAsync(oldTask));
        using (HttpResponseMessage download = await graphql.Http.GetAsync($"/api/tasks/{oldTask}/profile"))
        {
            Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        }

        Assert.Equal(recentBefore, (await graphql.ProgressAsync(recentTask)).ToJsonString());
        Assert.Single(await graphql.UploadsAsync(recentTask));
        Assert.Equal(Engine.Total(TestData.Bytes("heap"), "inuse_space"), await graphql.AnalyzedTotalAsync(recentTask));

        Assert.Null(await graphql.GetInstanceAsync(gone.InstanceId));
        Assert.Equal(alive.InstanceId, (string?)(await graphql.GetInstanceAsync(alive.InstanceId))?["id"]);
        Assert.Single(await graphql.ServicesAsync("GENERAL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Nothing_younger_than_the_default_three_days_is_removed() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        server.Clock.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));

        int deleted = await server.SweepExpiredAsync();

        Assert.Equal(0, deleted);
        Assert.Single(await graphql.UploadsAsync(taskId));
        Assert.NotNull(await graphql.GetInstanceAsync(agent.InstanceId));
    });
}
