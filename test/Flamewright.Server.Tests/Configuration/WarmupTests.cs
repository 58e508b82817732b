using Flamewright.Server.Configuration;
using Flamewright.Server.Tests.Support;

namespace Flamewright.Server.Tests.Configuration;

/// <summary>With <see cref="ServerOptions.WarmUp"/> on, a started server runs its warm-up once, quietly, and serves as before.</summary>
public sealed class WarmupTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_server_warms_up_once_after_starting_without_a_warning_and_serves_as_before() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.WarmUp)] = "true" });

        await server.Logs.WaitForAsync("Flamewright.Server.Hosting.Warmup", 901, TimeSpan.FromSeconds(30));

        Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Single(server.Logs.Entries, e => e.Category == "Flamewright.Server.Hosting.Warmup");
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });
}
