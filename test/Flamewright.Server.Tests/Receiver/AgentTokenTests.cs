using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Grpc.Core;

namespace Flamewright.Server.Tests.Receiver;

/// <summary>
/// SW_AUTHENTICATION: agents present the token as gRPC metadata <c>authentication</c>. The Go agent 0.7 leaves it
/// off its pprof calls, which the server refuses unless AllowPprofWithoutToken lets them through.
/// </summary>
public sealed class AgentTokenTests
{
    private const string Token = "s3cret-token";

    private static readonly Dictionary<string, string> s_tokenFromSkyWalkingVariable = new() { ["SW_AUTHENTICATION"] = Token };

    [Fact(Timeout = Spec.Timeout)]
    public Task Management_calls_without_the_token_or_with_a_wrong_one_are_UNAUTHENTICATED() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: s_tokenFromSkyWalkingVariable);
        using GoLikeAgent anonymous = server.Agent("go-service", "provider1");
        using GoLikeAgent wrong = server.Agent("go-service", "provider1", token: Token + "x");
        using GoLikeAgent prefix = server.Agent("go-service", "provider1", token: Token[..^1]);
        using GraphQLClient graphql = server.GraphQL();

        foreach (GoLikeAgent agent in new[] { anonymous, wrong, prefix })
        {
            Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => agent.RegisterAsync())).StatusCode);
            Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(agent.KeepAliveAsync)).StatusCode);
        }

        Assert.Empty(await graphql.ServicesAsync("GENERAL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Management_calls_with_the_right_token_pass() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.Authentication)] = Token });
        using GoLikeAgent agent = server.Agent("go-service", "provider1", token: Token);
        using GraphQLClient graphql = server.GraphQL();

        await agent.RegisterAsync();
        await agent.KeepAliveAsync();

        Assert.Single(await graphql.ServicesAsync("GENERAL"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task By_default_pprof_calls_without_the_token_are_UNAUTHENTICATED_which_breaks_the_Go_agent_0_7() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: s_tokenFromSkyWalkingVariable);
        using GoLikeAgent agent = server.Agent("go-service", "provider1", token: Token);
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        string taskId = await graphql.CreateTaskAsync(agent.ServiceId, [agent.InstanceId], "HEAP");

        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(agent.PollAsync)).StatusCode);
        RpcException upload = await Assert.ThrowsAsync<RpcException>(() => agent.UploadAsync(taskId, TestData.Bytes("heap")));

        Assert.Equal(StatusCode.Unauthenticated, upload.StatusCode);
        Assert.Empty(await graphql.OperationsAsync(taskId));
        Assert.Empty(await graphql.UploadsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_that_sends_the_token_on_pprof_calls_too_completes_a_task() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: s_tokenFromSkyWalkingVariable);
        using GoLikeAgent agent = server.Agent("go-service", "provider1", token: Token);
        using GraphQLClient graphql = server.GraphQL();
        agent.TokenOnPprofCalls = true;

        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));

        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], await graphql.OperationsAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task AllowPprofWithoutToken_lets_the_Go_agent_0_7_complete_a_task_but_still_guards_management() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(
            new Dictionary<string, string> { [nameof(ServerOptions.AllowPprofWithoutToken)] = "true" }, environment: s_tokenFromSkyWalkingVariable);
        using GoLikeAgent agent = server.Agent("go-service", "provider1", token: Token);
        using GoLikeAgent anonymous = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();

        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));

        Assert.Equal(["NOTIFIED", "EXECUTION_FINISHED"], await graphql.OperationsAsync(taskId));
        Assert.Equal(StatusCode.Unauthenticated, (await Assert.ThrowsAsync<RpcException>(() => anonymous.RegisterAsync())).StatusCode);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Without_a_token_configured_agents_need_none() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();

        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));

        Assert.Equal(PprofProfilingStatus.PprofExecutionTaskError, await agent.ReportErrorAsync(taskId, "just checking"));
    });
}
