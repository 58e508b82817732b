using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Analysis;
using Flamewright.Server.Tests.Support;

namespace Flamewright.Server.Tests.Analysis;

/// <summary>
/// A finished task's default view is kept in storage once built, so a restarted server answers the first look from it
/// without reading any upload; a new upload drops it; a kept view that does not read is built again, never served.
/// </summary>
public sealed class StoredDefaultViewTests
{
    private static readonly string Analysis = typeof(AnalysisService).FullName!;

    private const string Look = """
        query ($r: PprofAnalyzationRequest!) {
          queryPprofFlameView(request: $r, width: 1200) { sampleType { type isDefault } total frames { name total } }
          queryPprofTop(request: $r, limit: 5) { total rows { name flat cum } }
        }
        """;

    [Fact(Timeout = Spec.Timeout)]
    public Task A_restarted_server_answers_the_default_view_from_storage_without_reading_an_upload() => Spec.Run(async () =>
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            byte[][] profiles = [TestData.Bytes("heap"), TestData.Bytes("heap-a")];
            string taskId;
            using (GoLikeAgent one = server.Agent("go-service", "provider1"), two = server.Agent("go-service", "provider2"))
            using (GraphQLClient graphql = server.GraphQL())
            {
                taskId = await graphql.TaskWithUploadsAsync("HEAP", (one, profiles[0]), (two, profiles[1]));
            }

            await server.Logs.WaitForAsync(Analysis, 506, TimeSpan.FromSeconds(30));
            server = await server.RestartAsync();
            // Behind the new server's back, no upload can be read any more: neither profile nor digest.
            await server.DatabaseAsync("UPDATE uploads SET profile = X'00', digest = X'00'");

            using GraphQLClient again = server.GraphQL();
            JsonNode look = await again.DataAsync(Look, new { r = new { taskId, instanceIds = Array.Empty<string>() } });

            FlameTree expected = Engine.Tree(new FlameOptions { SampleType = "inuse_space" }, profiles);
            TopTable top = TopTable.Build(expected);
            Assert.Equal(expected.Total, (long)look["queryPprofFlameView"]!["total"]!);
            Assert.Equal(("inuse_space", true), ((string)look["queryPprofFlameView"]!["sampleType"]!["type"]!, (bool)look["queryPprofFlameView"]!["sampleType"]!["isDefault"]!));
            Assert.Equal(FlameView.Build(expected, [], 1200).Frames.Select(f => (f.Name, f.Total)),
                look["queryPprofFlameView"]!["frames"]!.AsArray().Select(f => ((string)f!["name"]!, (long)f["total"]!)));
            Assert.Equal(top.Entries.Take(5).Select(e => (e.Name, e.Flat, e.Cum)),
                look["queryPprofTop"]!["rows"]!.AsArray().Select(r => ((string)r!["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
            Assert.Equal(top.AbsoluteTotal, (long)look["queryPprofTop"]!["total"]!);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_new_upload_drops_the_kept_view_and_the_next_one_is_of_the_new_uploads() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        await server.Logs.WaitForAsync(Analysis, 506, TimeSpan.FromSeconds(30));
        string firstKey = (string)(await server.DatabaseAsync("SELECT view_key FROM task_views"))!;

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("heap-b")));

        await Eventually.HoldsAsync(async () => (string?)await server.DatabaseAsync("SELECT view_key FROM task_views") is string key && key != firstKey,
            "the view of the new upload replaces the first", TimeSpan.FromSeconds(30));
        Assert.Equal(1L, await server.DatabaseAsync("SELECT COUNT(*) FROM task_views"));
        Assert.Equal(Engine.Total(TestData.Bytes("heap-b"), "inuse_space"), await graphql.AnalyzedTotalAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_kept_view_that_does_not_read_is_built_again_from_the_uploads() => Spec.Run(async () =>
    {
        TestServer server = await TestServer.StartAsync();
        try
        {
            byte[] profile = TestData.Bytes("cpu");
            string taskId;
            using (GoLikeAgent agent = server.Agent("go-service", "provider1"))
            using (GraphQLClient graphql = server.GraphQL())
            {
                taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
            }

            await server.Logs.WaitForAsync(Analysis, 506, TimeSpan.FromSeconds(30));
            server = await server.RestartAsync();
            await server.DatabaseAsync("UPDATE task_views SET view = X'4657545201000000'");

            using GraphQLClient again = server.GraphQL();
            Assert.Equal(Engine.Total(profile, "cpu"), await again.AnalyzedTotalAsync(taskId));

            Assert.Contains(server.Logs.Entries, e => e.Category == Analysis && e.Event.Id == 509);
        }
        finally
        {
            await server.DisposeAsync();
        }
    });
}
