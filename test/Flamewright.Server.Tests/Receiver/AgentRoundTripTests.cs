using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;

namespace Flamewright.Server.Tests.Receiver;

public sealed class AgentRoundTripTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_created_in_GraphQL_reaches_a_Go_like_agent_and_its_upload_is_analysed_by_sample_value() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        string serviceId = SkyWalkingIds.ServiceId("go-service");
        string instanceId = SkyWalkingIds.InstanceId(serviceId, "provider1");
        Assert.Equal("Z28tc2VydmljZQ==.1_cHJvdmlkZXIx", instanceId);

        string taskId = await graphql.CreateTaskAsync(serviceId, [instanceId], "CPU", duration: 1);
        ReceivedTask? task = await agent.PollAsync();
        Assert.NotNull(task);
        Assert.Equal(taskId, task.TaskId);
        Assert.Equal("cpu", task.Events);
        Assert.Equal(["SerialNumber", "TaskId", "Events", "Duration", "CreateTime", "DumpPeriod"], task.ArgumentOrder);
        Assert.Null(await agent.PollAsync());

        byte[] profile = TestData.Bytes("cpu");
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, profile));

        var progress = await graphql.ProgressAsync(taskId);
        Assert.Equal([instanceId], progress["successInstanceIds"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], progress["logs"]!.AsArray().Select(n => (string)n!["operationType"]!));

        var data = await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total self } } } }",
            new { r = new { taskId, instanceIds = new[] { instanceId } } });
        var root = data["queryPprofAnalyze"]!["tree"]!["elements"]![0]!;
        long expected = FlameTreeBuilder.Build(ProfileReader.Read(profile)).Total;
        Assert.Equal(expected, (long)root["total"]!);
        Assert.Equal("root", (string)root["codeSignature"]!);
        Assert.Equal("-1", (string)root["parentId"]!);
    });
}
