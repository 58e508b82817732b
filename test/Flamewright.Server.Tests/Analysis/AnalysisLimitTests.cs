using System.Net;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;
using Flamewright.Server.Analysis;
using Flamewright.Server.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flamewright.Server.Tests.Analysis;

/// <summary>The bounds on analyses: how many run at once, and how many elements one GraphQL answer holds.</summary>
public sealed class AnalysisLimitTests
{
    private const int MaxElements = 10;

    [Fact(Timeout = Spec.Timeout)]
    public Task A_flame_graph_larger_than_MaxAnalysisElements_sends_its_heaviest_elements_with_exact_values_and_says_how_many_it_left_out() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxAnalysisElements)] = MaxElements.ToString() });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        FlameTree engine = Engine.Tree(new FlameOptions { SampleType = "cpu" }, profile);

        JsonNode answer = (await graphql.DataAsync(
            $"query ($r: PprofAnalyzationRequest!) {{ queryPprofAnalyze(request: $r) {{ omittedElements tree {{ elements {{ {GraphQLClient.ElementFields} }} }} }} }}",
            new { r = new { taskId, instanceIds = Array.Empty<string>() } }))["queryPprofAnalyze"]!;

        JsonArray elements = answer["tree"]!["elements"]!.AsArray();
        Assert.Equal(MaxElements, elements.Count);
        Assert.Equal(engine.Count - MaxElements, (int)answer["omittedElements"]!);
        Dictionary<string, (long Total, long Self)> byPath = PathsOf(engine);
        var paths = new Dictionary<string, string>();
        foreach (JsonNode? element in elements)
        {
            string parent = (string)element!["parentId"]!;
            string path = parent == "-1" ? "root" : paths[parent] + ";" + (string)element["codeSignature"]!;
            paths[(string)element["id"]!] = path;
            Assert.Equal(byPath[path], ((long)element["total"]!, (long)element["self"]!));
        }

        // No element left out weighs more than the lightest one sent.
        long lightestSent = elements.Min(e => (long)e!["total"]!);
        Assert.All(byPath.Where(p => !paths.ContainsValue(p.Key)), p => Assert.True(p.Value.Total <= lightestSent, $"{p.Key} ({p.Value.Total}) was left out"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_diff_larger_than_MaxAnalysisElements_is_cut_the_same_way() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(new Dictionary<string, string> { [nameof(ServerOptions.MaxAnalysisElements)] = MaxElements.ToString() });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        var request = new { taskId, instanceIds = Array.Empty<string>() };

        JsonNode diff = (await graphql.DataAsync(
            "query ($b: PprofAnalyzationRequest!, $t: PprofAnalyzationRequest!) { queryPprofDiff(base: $b, target: $t) { omittedElements elements { id parentId baseTotal targetTotal } } }",
            new { b = request, t = request }))["queryPprofDiff"]!;

        JsonArray elements = diff["elements"]!.AsArray();
        Assert.Equal(MaxElements, elements.Count);
        Assert.True((int)diff["omittedElements"]! > 0);
        Assert.Equal(Enumerable.Range(0, MaxElements).Select(i => i.ToString()), elements.Select(e => (string)e!["id"]!));
        Assert.All(elements.Skip(1), e => Assert.True(int.Parse((string)e!["parentId"]!) < int.Parse((string)e["id"]!)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Past_MaxConcurrentAnalyses_with_no_time_to_wait_an_analysis_is_refused_as_busy_in_GraphQL_and_REST_and_runs_once_a_turn_is_free() => Spec.Run(async () =>
    {
        await using TestServer server = await OneTurnNoWaitAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, profile));
        const string Busy = "the server was running 1 analyses (MaxConcurrentAnalyses) for all of 0 s; try again shortly";

        using (await server.Server.Services.GetRequiredService<AnalysisService>().EnterAsync(CancellationToken.None))
        {
            Assert.Equal(Busy, await graphql.ErrorAsync(
                "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }",
                new { r = new { taskId, instanceIds = Array.Empty<string>() } }));
            using HttpResponseMessage download = await graphql.Http.GetAsync($"/api/tasks/{taskId}/profile?format=folded");
            Assert.Equal((HttpStatusCode.ServiceUnavailable, Busy + "\n"), (download.StatusCode, await download.Content.ReadAsStringAsync()));
            // The sample types come from the summary stored with the upload: no turn needed.
            JsonNode types = await graphql.DataAsync("query ($id: ID!) { queryPprofSampleTypes(taskId: $id) { type isDefault } }", new { id = taskId });
            Assert.Equal(["samples", "cpu"], types["queryPprofSampleTypes"]!.AsArray().Select(t => (string)t!["type"]!));
        }

        Assert.Equal(Engine.Total(profile, "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_look_already_built_is_answered_from_the_cache_while_every_analysis_turn_is_taken() => Spec.Run(async () =>
    {
        await using TestServer server = await OneTurnNoWaitAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        const string Look = """
            query ($r: PprofAnalyzationRequest!) {
              queryPprofFlameView(request: $r, width: 800) { total frames { name total } }
              queryPprofTop(request: $r, limit: 5) { rows { name flat cum } }
              queryPprofAnalyze(request: $r) { tree { elements { id total } } } }
            """;
        var variables = new { r = new { taskId, instanceIds = Array.Empty<string>() } };
        // The tree first: asked for beside it, a first look would be made from the stacks in a turn of its own.
        await graphql.DataAsync("query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }", variables);
        string built = (await graphql.DataAsync(Look, variables)).ToJsonString();

        using (await server.Server.Services.GetRequiredService<AnalysisService>().EnterAsync(CancellationToken.None))
        {
            Assert.Equal(built, (await graphql.DataAsync(Look, variables)).ToJsonString());
            // Another selection must be built: it needs the turn that is taken.
            Assert.StartsWith("the server was running 1 analyses", await graphql.ErrorAsync(
                "query ($r: PprofAnalyzationRequest!) { queryPprofFlameView(request: $r, width: 800) { total } }",
                new { r = new { taskId, instanceIds = Array.Empty<string>(), granularity = "LINE" } }), StringComparison.Ordinal);
        }
    });

    /// <summary>A server with one analysis turn that nothing waits for, and no default view built ahead (the test holds the turn itself).</summary>
    [Fact(Timeout = Spec.Timeout)]
    public Task An_analysis_that_finds_no_memory_empties_the_caches_and_tries_once_more_then_fails_with_one_line() => Spec.Run(async () =>
    {
        await using TestServer server = await OneTurnNoWaitAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        const string Tree = "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }";
        var variables = new { r = new { taskId, instanceIds = Array.Empty<string>() } };
        await graphql.DataAsync(Tree, variables);
        AnalysisService analysis = server.Server.Services.GetRequiredService<AnalysisService>();
        int tries = 0;

#pragma warning disable CA2201 // What the runtime throws when an allocation meets the heap's limit, thrown here in its place.
        string second = await analysis.InTurnAsync(() => ++tries == 1 ? throw new OutOfMemoryException() : Task.FromResult("built"), CancellationToken.None);

        Assert.Equal(("built", 2), (second, tries));
        Assert.Contains(server.Logs.Entries, e => e.Event.Id == 520 && e.Message.Contains("emptying the caches", StringComparison.Ordinal));
        // The tree was emptied out of the cache: with the only turn taken, asking for it again waits for a turn.
        using (await analysis.EnterAsync(CancellationToken.None))
        {
            Assert.StartsWith("the server was running 1 analyses", await graphql.ErrorAsync(Tree, variables));
        }

        AnalysisException failed = await Assert.ThrowsAsync<AnalysisException>(() =>
            analysis.InTurnAsync<string>(() => throw new OutOfMemoryException(), CancellationToken.None));
#pragma warning restore CA2201
        Assert.Equal(
            "the server has too little memory for this analysis, even with its caches emptied (ManagedHeapLimitMegabytes 1664); narrow the selection or raise the limit",
            failed.Message);
        // Nothing else changed: the same look is answered, and the turn was given back.
        Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), await graphql.AnalyzedTotalAsync(taskId));
    });

    private static Task<TestServer> OneTurnNoWaitAsync() => TestServer.StartAsync(new Dictionary<string, string>
    {
        [nameof(ServerOptions.MaxConcurrentAnalyses)] = "1",
        [nameof(ServerOptions.AnalysisQueueSeconds)] = "0",
        [nameof(ServerOptions.PrecomputeDefaultView)] = "false",
    });

    /// <summary>Every node of the engine's tree by its path of names from the root.</summary>
    private static Dictionary<string, (long Total, long Self)> PathsOf(FlameTree tree)
    {
        var paths = new string[tree.Count];
        var byPath = new Dictionary<string, (long, long)>();
        for (int node = 0; node < tree.Count; node++)
        {
            paths[node] = node == 0 ? "root" : paths[tree.ParentOf(node)] + ";" + tree.NameOf(node);
            byPath[paths[node]] = (tree.TotalOf(node), tree.SelfOf(node));
        }

        return byPath;
    }
}
