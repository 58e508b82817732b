using Microsoft.Extensions.DependencyInjection;
using Flamewright.Server.Configuration;

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

    [Fact(Timeout = Spec.Timeout)]
    public Task A_restarted_server_warms_up_on_the_task_kept_last_behind_an_api_token_and_keeps_nothing_of_it_cached() => Spec.Run(async () =>
    {
        var settings = new Dictionary<string, string> { [nameof(ServerOptions.ApiToken)] = "warm-up-token-1234567890" };
        TestServer server = await TestServer.StartAsync(settings);
        try
        {
            string taskId;
            using (GoLikeAgent agent = server.Agent("go-service", "provider1"))
            using (GraphQLClient graphql = server.GraphQL().WithToken("warm-up-token-1234567890"))
            {
                taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
            }

            await server.Logs.WaitForAsync(typeof(Flamewright.Server.Analysis.AnalysisService).FullName!, 506, TimeSpan.FromSeconds(30));
            server = await server.RestartAsync(new Dictionary<string, string>(settings) { [nameof(ServerOptions.WarmUp)] = "true" });

            await server.Logs.WaitForAsync("Flamewright.Server.Hosting.Warmup", 901, TimeSpan.FromSeconds(30));

            Assert.Contains(server.Logs.Entries, e => e.Event.Id == 901 && e.Message.Contains($"task {taskId} ", StringComparison.Ordinal));
            Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
            Assert.Equal(0, server.Server.Services.GetRequiredService<Flamewright.Server.Analysis.AnalysisService>().CachedResults);
            using GraphQLClient again = server.GraphQL().WithToken("warm-up-token-1234567890");
            Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), await again.AnalyzedTotalAsync(taskId));
        }
        finally
        {
            await server.DisposeAsync();
        }
    });
}
