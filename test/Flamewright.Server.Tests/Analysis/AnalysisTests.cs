using System.Text.Json.Nodes;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Server.Tests.Analysis;

/// <summary>
/// queryPprofAnalyze and its extensions answer exactly what the pprof engine computes from the same bytes,
/// weighted by sample values, not by counting records as the reference does.
/// </summary>
public sealed class AnalysisTests
{
    [Theory(Timeout = Spec.Timeout)]
    [InlineData("CPU", "cpu", "cpu", 1)]
    [InlineData("HEAP", "heap", "inuse_space", 3)]
    [InlineData("ALLOCS", "allocs", "alloc_space", 1)]
    [InlineData("BLOCK", "block", "delay", 1)]
    [InlineData("MUTEX", "mutex", "delay", 1)]
    [InlineData("GOROUTINE", "goroutine", "goroutine", 0)]
    [InlineData("THREADCREATE", "threadcreate", "threadcreate", 0)]
    public Task Each_event_is_weighed_by_its_natural_sample_type_exactly_as_the_engine_weighs_it(string events, string profileName, string sampleType, int index) => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] profile = TestData.Bytes(profileName);
        string taskId = await graphql.TaskWithUploadsAsync(events, (agent, profile));

        (JsonArray elements, JsonNode? chosen) = await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId } });

        FlameTree expected = Engine.Tree(new FlameOptions { SampleType = sampleType }, profile);
        Assert.NotEqual(0, expected.Total);
        Assert.Equal(Engine.ElementsJson(expected), elements.ToJsonString());
        Assert.Equal((index, sampleType, true), ((int)chosen!["index"]!, (string)chosen["type"]!, (bool)chosen["isDefault"]!));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_same_heap_profile_gives_different_pictures_for_HEAP_and_ALLOCS() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] heap = TestData.Bytes("heap");
        string heapTask = await graphql.TaskWithUploadsAsync("HEAP", (agent, heap));
        string allocsTask = await graphql.TaskWithUploadsAsync("ALLOCS", (agent, heap));

        JsonArray inUse = (await graphql.AnalyzeAsync(new { taskId = heapTask, instanceIds = new[] { agent.InstanceId } })).Elements;
        JsonArray allocated = (await graphql.AnalyzeAsync(new { taskId = allocsTask, instanceIds = new[] { agent.InstanceId } })).Elements;

        Assert.Equal(Engine.ElementsJson(Engine.Tree(new FlameOptions { SampleType = "inuse_space" }, heap)), inUse.ToJsonString());
        Assert.Equal(Engine.ElementsJson(Engine.Tree(new FlameOptions { SampleType = "alloc_space" }, heap)), allocated.ToJsonString());
        Assert.True((long)allocated[0]!["total"]! > (long)inUse[0]!["total"]!, "a program allocates more than it keeps");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Two_instances_merge_into_one_tree_whose_total_is_the_sum_and_each_can_be_chosen_alone() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] a = TestData.Bytes("heap-a");
        byte[] b = TestData.Bytes("heap-b");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (first, a), (second, b));
        var inUse = new FlameOptions { SampleType = "inuse_space" };

        JsonArray both = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { first.InstanceId, second.InstanceId } })).Elements;
        JsonArray onlySecond = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { second.InstanceId } })).Elements;

        Assert.Equal(Engine.Total(a, "inuse_space") + Engine.Total(b, "inuse_space"), (long)both[0]!["total"]!);
        Assert.Equal(Engine.ElementsJson(Engine.Tree(inUse, a, b)), both.ToJsonString());
        Assert.Equal(Engine.ElementsJson(Engine.Tree(inUse, b)), onlySecond.ToJsonString());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_without_uploads_analyses_to_an_empty_root() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("CPU", agent);

        (JsonArray elements, JsonNode? sampleType) = await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId } });

        Assert.Equal("""[{"id":"0","parentId":"-1","codeSignature":"root","total":0,"self":0}]""", elements.ToJsonString());
        Assert.Null(sampleType);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Another_sample_type_can_be_chosen_by_name_or_by_index() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] heap = TestData.Bytes("heap");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (agent, heap));
        string expected = Engine.ElementsJson(Engine.Tree(new FlameOptions { SampleType = "alloc_objects" }, heap));

        (JsonArray byName, JsonNode? chosen) = await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, sampleType = "alloc_objects" });
        (JsonArray byIndex, _) = await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, sampleType = "0" });
        string unknown = await graphql.ErrorAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }",
            new { r = new { taskId, instanceIds = new[] { agent.InstanceId }, sampleType = "wall" } });

        Assert.Equal(expected, byName.ToJsonString());
        Assert.Equal(expected, byIndex.ToJsonString());
        Assert.Equal("""{"index":0,"type":"alloc_objects","unit":"count","isDefault":false}""", chosen!.ToJsonString());
        Assert.Contains("'wall'", unknown);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Granularity_LINE_gives_one_frame_per_line_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));

        JsonArray lines = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, granularity = "LINE" })).Elements;
        JsonArray functions = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, granularity = "FUNCTION" })).Elements;

        Assert.Equal(Engine.ElementsJson(Engine.Tree(new FlameOptions { SampleType = "cpu", Granularity = FrameGranularity.Line }, cpu)), lines.ToJsonString());
        Assert.True(lines.Count > functions.Count, "a line graph splits functions into their lines");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Focus_and_ignore_keep_and_drop_samples_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        const string Focus = @"main\.hashLoop";
        const string Ignore = @"main\.mix";

        JsonArray focused = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, focus = Focus })).Elements;
        JsonArray both = (await graphql.AnalyzeAsync(new { taskId, instanceIds = new[] { agent.InstanceId }, focus = Focus, ignore = Ignore })).Elements;
        string invalid = await graphql.ErrorAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }",
            new { r = new { taskId, instanceIds = new[] { agent.InstanceId }, focus = "(" } });

        FlameTree expectedFocused = Engine.Tree(new FlameOptions { SampleType = "cpu", Focus = Focus }, cpu);
        FlameTree expectedBoth = Engine.Tree(new FlameOptions { SampleType = "cpu", Focus = Focus, Ignore = Ignore }, cpu);
        Assert.Equal(Engine.ElementsJson(expectedFocused), focused.ToJsonString());
        Assert.Equal(Engine.ElementsJson(expectedBoth), both.ToJsonString());
        Assert.True(0 < expectedBoth.Total && expectedBoth.Total < expectedFocused.Total && expectedFocused.Total < Engine.Total(cpu, "cpu"),
            "the patterns must keep some samples and drop others for this test to mean anything");
        Assert.Contains("(", invalid);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Label_filters_and_a_label_split_keep_drop_and_split_samples_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        string[] instanceIds = [agent.InstanceId];

        JsonArray focused = (await graphql.AnalyzeAsync(new { taskId, instanceIds, tagFocus = "tenant=acme" })).Elements;
        JsonArray ignored = (await graphql.AnalyzeAsync(new { taskId, instanceIds, tagIgnore = "job=deep" })).Elements;
        JsonArray split = (await graphql.AnalyzeAsync(new { taskId, instanceIds, tagSplit = "tenant", tagIgnore = "job=deep" })).Elements;
        string invalid = await graphql.ErrorAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id } } } }",
            new { r = new { taskId, instanceIds, tagFocus = "tenant=(" } });

        FlameTree expectedFocused = Engine.Tree(new FlameOptions { SampleType = "cpu", TagFocus = "tenant=acme" }, cpu);
        FlameTree expectedIgnored = Engine.Tree(new FlameOptions { SampleType = "cpu", TagIgnore = "job=deep" }, cpu);
        FlameTree expectedSplit = Engine.Tree(new FlameOptions { SampleType = "cpu", TagSplit = "tenant", TagIgnore = "job=deep" }, cpu);
        Assert.Equal(Engine.ElementsJson(expectedFocused), focused.ToJsonString());
        Assert.Equal(Engine.ElementsJson(expectedIgnored), ignored.ToJsonString());
        Assert.Equal(Engine.ElementsJson(expectedSplit), split.ToJsonString());
        Assert.True(0 < expectedFocused.Total && expectedFocused.Total < Engine.Total(cpu, "cpu") && expectedIgnored.Total < Engine.Total(cpu, "cpu"),
            "the filters must keep some samples and drop others for this test to mean anything");
        Assert.Equal(["(no tenant)", "tenant=acme corp"], expectedSplit.Root.Children.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.StartsWith("tagfocus: invalid regular expression", invalid);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofSandwich_answers_a_functions_callers_callees_and_both_graphs_as_the_engine_builds_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (first, cpu), (second, cpu));
        const string Query = """
            query ($r: PprofAnalyzationRequest!, $f: String!, $z: [String!]) {
              queryPprofSandwich(request: $r, function: $f, width: 1000, calleesZoom: $z) {
                sampleType { type } function flat cum total callers { name value } callees { name value }
                callersView { frames { name total } } calleesView { ancestors { name } frames { name total } } } }
            """;
        Pprof.Model.Profile profile = Pprof.ProfileReader.Read(cpu);
        Sandwich expected = Sandwich.Build([profile, profile], new FlameOptions { SampleType = "cpu" }, "main.hashLoop");

        JsonNode answer = (await graphql.DataAsync(Query, new { r = new { taskId, instanceIds = new[] { first.InstanceId, second.InstanceId } }, f = "main.hashLoop" }))["queryPprofSandwich"]!;
        JsonNode zoomed = (await graphql.DataAsync(Query, new { r = new { taskId, instanceIds = new[] { first.InstanceId } }, f = "main.hashLoop", z = new[] { "main.hashLoop", "main.mix" } }))["queryPprofSandwich"]!;
        string unknown = await graphql.ErrorAsync(Query, new { r = new { taskId, instanceIds = new[] { first.InstanceId } }, f = "main.nowhere" });

        Assert.Equal(("cpu", "main.hashLoop", expected.Flat, expected.Cum, expected.AbsoluteTotal),
            ((string)answer["sampleType"]!["type"]!, (string)answer["function"]!, (long)answer["flat"]!, (long)answer["cum"]!, (long)answer["total"]!));
        Assert.Equal(expected.Callers.Select(e => (e.Name, e.Value)), answer["callers"]!.AsArray().Select(e => ((string)e!["name"]!, (long)e["value"]!)));
        Assert.Equal(expected.Callees.Select(e => (e.Name, e.Value)), answer["callees"]!.AsArray().Select(e => ((string)e!["name"]!, (long)e["value"]!)));
        // Each graph opens at the function, with its cum; the callers graph's next row is its callers.
        Assert.Equal(("main.hashLoop", expected.Cum), ((string)answer["callersView"]!["frames"]![0]!["name"]!, (long)answer["callersView"]!["frames"]![0]!["total"]!));
        Assert.Contains(answer["callersView"]!["frames"]!.AsArray(), f => (string)f!["name"]! == expected.Callers[0].Name);
        Assert.Equal(("main.mix", expected.CalleesTree.Root.Children.Single().Children.Single(c => c.Name == "main.mix").Total / 2),
            ((string)zoomed["calleesView"]!["frames"]![0]!["name"]!, (long)zoomed["calleesView"]!["frames"]![0]!["total"]!));
        Assert.Equal(["root", "main.hashLoop", "main.mix"], zoomed["calleesView"]!["ancestors"]!.AsArray().Select(a => (string)a!["name"]!));
        Assert.Equal("no sample of this selection has a frame named 'main.nowhere'", unknown);

        // At 10 pixels most callees are narrower than a pixel; their block, asked for alone, lists each with its value.
        const string Narrow = """
            query ($r: PprofAnalyzationRequest!, $n: Long) {
              queryPprofSandwich(request: $r, function: "main.hashLoop", width: 10, calleesNarrowerThan: $n) {
                calleesView { minTotal frames { parent name total } narrower { parent count total } } } }
            """;
        var single = new { taskId, instanceIds = new[] { first.InstanceId } };
        JsonNode cut = (await graphql.DataAsync(Narrow, new { r = single }))["queryPprofSandwich"]!["calleesView"]!;
        JsonNode block = cut["narrower"]!.AsArray().Single(b => (int)b!["parent"]! == 0)!;
        JsonNode alone = (await graphql.DataAsync(Narrow, new { r = single, n = (long)cut["minTotal"]! }))["queryPprofSandwich"]!["calleesView"]!;
        JsonNode[] children = [.. alone["frames"]!.AsArray().Where(f => (int)f!["parent"]! == 0)!];
        Assert.Equal((long)block["total"]!, children.Sum(f => (long)f["total"]!) + (alone["narrower"]!.AsArray().Where(b => (int)b!["parent"]! == 0).Sum(b => (long)b!["total"]!)));
        Assert.True(children.Length > 0, "the block's frames are drawn once shown alone");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofTop_for_one_function_at_line_granularity_lists_its_lines_as_go_tool_pprof_lines_names_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, cpu));
        const string Query = "query ($r: PprofAnalyzationRequest!, $f: String) { queryPprofTop(request: $r, limit: 0, function: $f) { rowCount rows { name flat cum } } }";
        TopTable byLine = TopTable.Build(Pprof.ProfileReader.Read(cpu), new FlameOptions { SampleType = "cpu", Granularity = FrameGranularity.Line });
        TopEntry[] expected = [.. byLine.Entries.Where(e => e.Name.StartsWith("main.hashLoop /", StringComparison.Ordinal))];

        JsonNode lines = (await graphql.DataAsync(Query, new { r = new { taskId, instanceIds = new[] { agent.InstanceId }, granularity = "LINE" }, f = "main.hashLoop" }))["queryPprofTop"]!;
        JsonNode function = (await graphql.DataAsync(Query, new { r = new { taskId, instanceIds = new[] { agent.InstanceId } }, f = "main.hashLoop" }))["queryPprofTop"]!;

        Assert.True(expected.Length > 1, "main.hashLoop must have several lines for this test to mean anything");
        Assert.Matches(@"^main\.hashLoop /.+/main\.go:[0-9]+$", expected[0].Name);
        Assert.Equal(expected.Length, (int)lines["rowCount"]!);
        Assert.Equal(expected.Select(e => (e.Name, e.Flat, e.Cum)), lines["rows"]!.AsArray().Select(r => ((string)r!["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
        Assert.Equal(["main.hashLoop"], function["rows"]!.AsArray().Select(r => (string)r!["name"]!));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofSampleTypes_lists_a_tasks_sample_types_and_marks_the_events_default() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        string heapTask = await graphql.TaskWithUploadsAsync("HEAP", (agent, TestData.Bytes("heap")));
        string allocsTask = await graphql.TaskWithUploadsAsync("ALLOCS", (agent, TestData.Bytes("heap")));

        Assert.Equal(
            """[{"index":0,"type":"alloc_objects","unit":"count","isDefault":false},{"index":1,"type":"alloc_space","unit":"bytes","isDefault":false},{"index":2,"type":"inuse_objects","unit":"count","isDefault":false},{"index":3,"type":"inuse_space","unit":"bytes","isDefault":true}]""",
            (await SampleTypesAsync(heapTask)).ToJsonString());
        Assert.Equal([1], (await SampleTypesAsync(allocsTask)).Where(t => (bool)t!["isDefault"]!).Select(t => (int)t!["index"]!));

        async Task<JsonArray> SampleTypesAsync(string taskId) =>
            (await graphql.DataAsync("query ($id: ID!) { queryPprofSampleTypes(taskId: $id) { index type unit isDefault } }", new { id = taskId }))
                ["queryPprofSampleTypes"]!.AsArray();
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofStackGroups_sums_two_instances_goroutines_per_stack_and_labels_heaviest_first() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] goroutines = TestData.Bytes("goroutine");
        string taskId = await graphql.TaskWithUploadsAsync("GOROUTINE", (first, goroutines), (second, goroutines));
        StackGroups expected = StackGroups.Build([Engine.Read(goroutines), Engine.Read(goroutines)]);

        JsonNode all = await GroupsAsync(0);
        JsonNode one = await GroupsAsync(1);

        Assert.Equal("goroutine", (string)all["sampleType"]!["type"]!);
        Assert.Equal(expected.Total, (long)all["total"]!);
        Assert.Equal(expected.GroupCount, (int)all["groupCount"]!);
        Assert.Equal(
            expected.Groups.Select(g => $"{g.Value} {string.Join(';', g.Frames)} {string.Join(',', g.Labels.Select(l => l.Key + "=" + l.Value))}"),
            all["groups"]!.AsArray().Select(g => $"{(long)g!["value"]!} {string.Join(';', g["frames"]!.AsArray().Select(f => (string)f!))} {string.Join(',', g["labels"]!.AsArray().Select(l => (string)l!["key"]! + "=" + (string)l["value"]!))}"));
        Assert.Equal(6, (long)one["groups"]![0]!["value"]!);
        Assert.Single(one["groups"]!.AsArray());
        Assert.Equal(expected.GroupCount, (int)one["groupCount"]!);

        async Task<JsonNode> GroupsAsync(int limit) =>
            (await graphql.DataAsync(
                "query ($r: PprofAnalyzationRequest!, $n: Int) { queryPprofStackGroups(request: $r, limit: $n) { sampleType { type } total groupCount groups { value frames labels { key value } } } }",
                new { r = new { taskId, instanceIds = Array.Empty<string>() }, n = limit }))["queryPprofStackGroups"]!;
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofLabels_sums_the_labels_of_two_instances_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] cpu = TestData.Bytes("cpu");
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (first, cpu), (second, cpu));
        LabelTable expected = LabelTable.Build([Engine.Read(cpu), Engine.Read(cpu)], new FlameOptions { SampleType = "cpu" });

        JsonNode labels = (await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofLabels(request: $r) { sampleType { type } total keys { key total values { value total } } } }",
            new { r = new { taskId, instanceIds = Array.Empty<string>() } }))["queryPprofLabels"]!;

        Assert.Equal("cpu", (string)labels["sampleType"]!["type"]!);
        Assert.Equal(expected.Total, (long)labels["total"]!);
        Assert.Contains(expected.Keys, k => k.Key == "handler");
        Assert.Equal(
            expected.Keys.Select(k => $"{k.Key}={k.Total}: {string.Join(", ", k.Values.Select(v => $"{v.Value}={v.Total}"))}"),
            labels["keys"]!.AsArray().Select(k => $"{(string)k!["key"]!}={(long)k["total"]!}: {string.Join(", ", k["values"]!.AsArray().Select(v => $"{(string)v!["value"]!}={(long)v["total"]!}"))}"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofTop_rows_equal_the_engines_top_table() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        byte[] a = TestData.Bytes("heap-a");
        byte[] b = TestData.Bytes("heap-b");
        string taskId = await graphql.TaskWithUploadsAsync("HEAP", (first, a), (second, b));
        TopTable expected = TopTable.Build([Engine.Read(a), Engine.Read(b)], new FlameOptions { SampleType = "inuse_space" });

        JsonNode all = await TopAsync(0);
        JsonNode five = await TopAsync(5);

        Assert.Equal(expected.AbsoluteTotal, (long)all["total"]!);
        Assert.Equal("inuse_space", (string)all["sampleType"]!["type"]!);
        Assert.Equal(expected.Entries.Select(e => (e.Name, e.Flat, e.Cum)), Rows(all).Select(r => ((string)r["name"]!, (long)r["flat"]!, (long)r["cum"]!)));
        Assert.All(Rows(all), r =>
        {
            Assert.Equal(expected.Percent((long)r["flat"]!), (double)r["flatPercent"]!, 9);
            Assert.Equal(expected.Percent((long)r["cum"]!), (double)r["cumPercent"]!, 9);
        });
        Assert.Equal(expected.Entries.Take(5).Select(e => e.Name), Rows(five).Select(r => (string)r["name"]!));

        async Task<JsonNode> TopAsync(int limit) =>
            (await graphql.DataAsync(
                "query ($r: PprofAnalyzationRequest!, $n: Int) { queryPprofTop(request: $r, limit: $n) { sampleType { type } total rows { name flat flatPercent cum cumPercent } } }",
                new { r = new { taskId, instanceIds = Array.Empty<string>() }, n = limit }))["queryPprofTop"]!;

        static IEnumerable<JsonNode> Rows(JsonNode top) => top["rows"]!.AsArray().Select(r => r!);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task QueryPprofDiff_puts_base_and_target_in_one_tree_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        byte[] a = TestData.Bytes("heap-a");
        byte[] b = TestData.Bytes("heap-b");
        string before = await graphql.TaskWithUploadsAsync("HEAP", (agent, a));
        string after = await graphql.TaskWithUploadsAsync("HEAP", (agent, b));

        JsonNode diff = (await graphql.DataAsync(
            """
            query ($base: PprofAnalyzationRequest!, $target: PprofAnalyzationRequest!) { queryPprofDiff(base: $base, target: $target) {
              sampleType { type } elements { id parentId codeSignature baseTotal baseSelf targetTotal targetSelf } } }
            """,
            new { @base = new { taskId = before, instanceIds = new[] { agent.InstanceId } }, target = new { taskId = after, instanceIds = new[] { agent.InstanceId } } }))["queryPprofDiff"]!;

        FlameDiff expected = FlameDiff.Build([Engine.Read(a)], [Engine.Read(b)], new FlameOptions { SampleType = "inuse_space" });
        JsonArray elements = diff["elements"]!.AsArray();
        Assert.Equal("inuse_space", (string)diff["sampleType"]!["type"]!);
        Assert.Equal((Engine.Total(a, "inuse_space"), Engine.Total(b, "inuse_space")), ((long)elements[0]!["baseTotal"]!, (long)elements[0]!["targetTotal"]!));
        Assert.Equal(expected.Count, elements.Count);
        Assert.Equal(
            Enumerable.Range(0, expected.Count).Select(i => (expected.NameOf(i), expected.ParentOf(i).ToString(), expected.BaseTotalOf(i), expected.BaseSelfOf(i), expected.TargetTotalOf(i), expected.TargetSelfOf(i))),
            elements.Select(e => ((string)e!["codeSignature"]!, (string)e["parentId"]!, (long)e["baseTotal"]!, (long)e["baseSelf"]!, (long)e["targetTotal"]!, (long)e["targetSelf"]!)));
    });
}
