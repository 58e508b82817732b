using System.Text.Json.Nodes;
using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tests.Support;
using Flamewright.Web.Tests.Support;
using Microsoft.Playwright;

namespace Flamewright.Web.Tests;

/// <summary>The analysis page: flame graph geometry, zoom, search, top table and downloads, in Chromium.</summary>
public sealed class FlameGraphTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task The_root_spans_the_full_width_and_sibling_widths_follow_their_values() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        LocatorBoundingBoxResult graph = (await page.Locator("#flame").BoundingBoxAsync())!;
        LocatorBoundingBoxResult root = (await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!;
        Assert.InRange(root.Width, graph.Width - 3, graph.Width);

        // The two widest children of the widest node with at least two children wider than 20 px.
        var byParent = elements.GroupBy(e => (string)e!["parentId"]!).ToDictionary(g => g.Key, g => g.OrderByDescending(e => (long)e!["total"]!).ToList());
        long rootTotal = (long)elements[0]!["total"]!;
        var siblings = byParent.Values.Where(c => c.Count >= 2 && (long)c[1]!["total"]! * root.Width / rootTotal > 20).OrderByDescending(c => (long)c[0]!["total"]!).First();
        double a = (await page.Locator($".frame[data-id='{(string)siblings[0]!["id"]!}']").BoundingBoxAsync())!.Width;
        double b = (await page.Locator($".frame[data-id='{(string)siblings[1]!["id"]!}']").BoundingBoxAsync())!.Width;
        double expected = (double)(long)siblings[0]!["total"]! / (long)siblings[1]!["total"]!;
        Assert.InRange(a / b, expected * 0.99, expected * 1.01);
        await browser.ScreenshotAsync("flame-graph");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Clicking_a_frame_zooms_to_it_and_the_breadcrumb_leads_back() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        double full = (await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!.Width;
        // The narrowest child of the root that is drawn (frames under a pixel wide are drawn as one block).
        string child = "";
        foreach (JsonNode e in elements.Where(e => (string?)e!["parentId"] == "0").OrderBy(e => (long)e!["total"]!)!)
        {
            if (await page.Locator($".frame[data-id='{(string)e["id"]!}']").CountAsync() > 0)
            {
                child = (string)e["id"]!;
                break;
            }
        }

        await page.Locator($".frame[data-id='{child}']").ClickAsync(new LocatorClickOptions { Force = true });
        // Zooming asks the server for the frames under the child: the trail appears with its answer.
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(1);
        Assert.InRange((await page.Locator($".frame[data-id='{child}']").BoundingBoxAsync())!.Width, full - 3, full + 1);

        await page.Locator("#zoom-trail a").ClickAsync();
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(0);
        Assert.InRange((await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!.Width, full - 1, full + 1);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Frames_and_the_breadcrumb_work_from_the_keyboard() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        string child = (string)elements.First(e => (string?)e!["parentId"] == "0")!["id"]!;

        await page.Locator($".frame[data-id='{child}']").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(1);
        await page.Locator("#zoom-trail a").FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(0);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Search_highlights_the_matching_frames_and_shows_their_combined_share() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        long matchedTotal = elements.Where(e => ((string)e!["codeSignature"]!).Contains("hashLoop", StringComparison.Ordinal)
            && !Ancestors(elements, e!).Any(a => ((string)a["codeSignature"]!).Contains("hashLoop", StringComparison.Ordinal))).Sum(e => (long)e!["total"]!);
        string share = (100.0 * matchedTotal / (long)elements[0]!["total"]!).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

        await page.FillAsync("#search", "hashLoop");

        // The server answers the search once typing pauses: the share, then the marks, come with its answer.
        await Assertions.Expect(page.Locator("#matched")).ToHaveTextAsync($"matched {share}% of the zoomed frame");
        int drawn = await page.Locator(".frame").CountAsync();
        var names = await page.Locator(".frame").EvaluateAllAsync<string[]>("frames => frames.map(f => f.dataset.name)");
        Assert.Equal(names.Count(n => n.Contains("hashLoop", StringComparison.Ordinal)), await page.Locator(".frame.match").CountAsync());
        Assert.True(drawn > await page.Locator(".frame.match").CountAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_top_table_sorts_by_a_column_and_a_row_click_marks_the_function_in_the_graph() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        // The server sorts: the table is drawn again, with the column marked, when its answer arrives.
        ILocator cumPercent = page.Locator("button.sort[data-key='cumPercent']");
        await cumPercent.ClickAsync();
        await Assertions.Expect(cumPercent).ToHaveAttributeAsync("aria-sort", "descending");
        double[] descending = await CumColumnAsync(page);
        await cumPercent.ClickAsync();
        await Assertions.Expect(page.Locator("button.sort[data-key='cumPercent']")).ToHaveAttributeAsync("aria-sort", "ascending");
        double[] ascending = await CumColumnAsync(page);

        Assert.Equal(descending.OrderByDescending(x => x), descending);
        Assert.Equal(ascending.OrderBy(x => x), ascending);
        await page.Locator("#top tbody tr").Last.ClickAsync();
        string name = await page.Locator("#top tbody tr").Last.Locator("td").First.InnerTextAsync();
        Assert.True(await page.Locator(".frame.selected").CountAsync() > 0, $"{name} is not marked in the graph");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_pprof_download_is_a_profile_the_engine_reads_with_the_graphs_total() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);

        string href = (await browser.Page.Locator("a.download-pprof").GetAttributeAsync("href"))!;
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        byte[] bytes = await http.GetByteArrayAsync(href);

        Assert.Equal((long)elements[0]!["total"]!, FlameTreeBuilder.Build(ProfileReader.Read(bytes)).Total);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Clicking_a_block_of_narrower_frames_draws_each_of_them_and_the_trail_leads_back() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        var builder = new Flamewright.Pprof.Model.ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")]);
        int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
        builder.AddSample([builder.AddLocation([new(builder.AddFunction("main.big"), 2, 0)]), root], [1, 1_000_000]);
        for (int i = 0; i < 50; i++)
        {
            builder.AddSample([builder.AddLocation([new(builder.AddFunction($"main.tiny{i}"), 4, 0)]), root], [1, 10]);
        }

        using var bytes = new MemoryStream();
        Flamewright.Pprof.Export.ProfileWriter.Write(builder.Build(), bytes);
        string taskId = await UploadedTaskAsync(server, "CPU", bytes.ToArray());
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        Assert.Equal(0, await page.Locator(".frame[data-name='main.tiny0']").CountAsync());

        await page.Locator(".frame.tiny[data-name='50 small frames']").ClickAsync(new LocatorClickOptions { Force = true });

        await Assertions.Expect(page.Locator(".frame[data-name='main.tiny0']")).ToHaveCountAsync(1);
        Assert.Equal(50, await page.Locator(".frame[data-name^='main.tiny']").CountAsync());
        Assert.Equal(0, await page.Locator(".frame[data-name='main.big']").CountAsync());
        Assert.EndsWith("main.main › narrower frames", await page.Locator("#zoom-trail").InnerTextAsync());
        await page.Locator("#zoom-trail a").Last.ClickAsync();
        await Assertions.Expect(page.Locator(".frame[data-name='main.big']")).ToHaveCountAsync(1);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Function_names_with_markup_are_shown_as_text_and_tiny_frames_are_drawn_as_one_labelled_frame() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        const string Script = "<script>window.pwned=1</script>main.evil";
        const string Image = "<img id=injected src=x onerror=window.pwned=2>";
        var builder = new Flamewright.Pprof.Model.ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")]);
        int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
        builder.AddSample([builder.AddLocation([new(builder.AddFunction(Script), 2, 0)]), root], [1, 100_000]);
        builder.AddSample([builder.AddLocation([new(builder.AddFunction(Image), 3, 0)]), root], [1, 50_000]);
        for (int i = 0; i < 200; i++)
        {
            builder.AddSample([builder.AddLocation([new(builder.AddFunction($"main.tiny{i}"), 4, 0)]), root], [1, 1]);
        }

        using var bytes = new MemoryStream();
        Flamewright.Pprof.Export.ProfileWriter.Write(builder.Build(), bytes);
        string taskId = await UploadedTaskAsync(server, "CPU", bytes.ToArray());
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        var names = await page.Locator(".frame").EvaluateAllAsync<string[]>("frames => frames.map(f => f.textContent)");
        Assert.Contains(Script, names);
        Assert.Contains(Image, names);
        Assert.Contains("200 small frames", await page.Locator(".frame.tiny").EvaluateAllAsync<string[]>("frames => frames.map(f => f.dataset.name)"));
        Assert.Contains(Script, await page.Locator("#top").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#injected").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.pwned"));
        await browser.ScreenshotAsync("hostile-names");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_flame_orientation_puts_the_root_at_the_bottom_and_icicle_at_the_top() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        string child = (string)elements.First(e => (string?)e!["parentId"] == "0")!["id"]!;

        double rootTop = (await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!.Y;
        double childTop = (await page.Locator($".frame[data-id='{child}']").BoundingBoxAsync())!.Y;
        await page.SelectOptionAsync("#orientation", "flame");
        double flameRootTop = (await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!.Y;
        double flameChildTop = (await page.Locator($".frame[data-id='{child}']").BoundingBoxAsync())!.Y;

        Assert.True(rootTop < childTop, "icicle: the root is above its children");
        Assert.True(flameRootTop > flameChildTop, "flame: the root is below its children");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_narrow_window_still_shows_the_graph_and_the_top_table() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, $"/#/analysis/{Uri.EscapeDataString(taskId)}"), width: 420, height: 800);
        IPage page = browser.Page;
        await page.Locator(".frame[data-id='0']").WaitForAsync();

        double root = (await page.Locator(".frame[data-id='0']").BoundingBoxAsync())!.Width;
        Assert.InRange(root, 300, 420);
        Assert.True(await page.Locator("#top tbody tr").First.IsVisibleAsync());
        await browser.ScreenshotAsync("narrow");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_diff_against_another_task_colours_frames_by_the_change_of_their_share_both_ways_and_no_comparison_colours_none() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        string serviceId = Flamewright.Server.Tasks.SkyWalkingIds.ServiceId("go-service");
        string[] instances = [Flamewright.Server.Tasks.SkyWalkingIds.InstanceId(serviceId, "provider1")];
        string before = await graphql.CreateTaskAsync(serviceId, instances, "HEAP");
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync((await agent.PollAsync())!.TaskId, TestData.Bytes("heap-a")));
        string after = await graphql.CreateTaskAsync(serviceId, instances, "HEAP");
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync((await agent.PollAsync())!.TaskId, TestData.Bytes("heap-b")));
        await using Browser browser = await OpenAnalysisAsync(server, after);
        IPage page = browser.Page;

        await page.SelectOptionAsync("#compare", before);
        await page.Locator(".frame.grew, .frame.shrank").First.WaitForAsync();
        Assert.True(await page.Locator("#legend").IsVisibleAsync());
        int changed = await page.Locator(".frame.grew, .frame.shrank").CountAsync();
        await browser.ScreenshotAsync("diff");

        await using Browser itself = await OpenAnalysisAsync(server, before);
        await itself.Page.SelectOptionAsync("#compare", after);
        await itself.Page.Locator(".frame.grew, .frame.shrank").First.WaitForAsync();
        Assert.True(changed > 0);
        await itself.Page.SelectOptionAsync("#compare", "");
        // The page reloads the graph after the choice: Playwright's assertions wait for it.
        await Assertions.Expect(itself.Page.Locator("#legend")).ToBeHiddenAsync();
        await Assertions.Expect(itself.Page.Locator(".frame.grew, .frame.shrank")).ToHaveCountAsync(0);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_diff_against_another_instance_of_the_same_task_compares_the_selection_with_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("HEAP", first, second);
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await first.UploadAsync(taskId, TestData.Bytes("heap-a")));
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await second.UploadAsync(taskId, TestData.Bytes("heap-b")));
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator($"#analysis-form input[value='{first.InstanceId}']").UncheckAsync();
        await page.SelectOptionAsync("#compare", $"{taskId}|{first.InstanceId}");

        await page.Locator(".frame.grew, .frame.shrank").First.WaitForAsync();
        Assert.True(await page.Locator("#legend").IsVisibleAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Hovering_a_frame_shows_its_name_total_self_and_shares_with_units() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        JsonNode widest = elements.Where(e => (string?)e!["parentId"] == "0").MaxBy(e => (long)e!["total"]!)!;

        await page.Locator($".frame[data-id='{(string)widest["id"]!}']").HoverAsync();
        string tip = await page.Locator("#tooltip").InnerTextAsync();

        Assert.Contains((string)widest["codeSignature"]!, tip);
        string share = (100.0 * (long)widest["total"]! / (long)elements[0]!["total"]!).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"({share}% of all, {share}% of zoomed)", tip);
        Assert.Matches(@"total [0-9.]+ (ms|s) ", tip);
        Assert.Contains("self ", tip);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_tree_of_a_hundred_thousand_nodes_is_drawn_with_its_tiny_frames_aggregated() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        var builder = new Flamewright.Pprof.Model.ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")]);
        int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
        var random = new Random(7);
        for (int i = 0; i < 50_000; i++)
        {
            int a = builder.AddLocation([new(builder.AddFunction($"pkg{i % 50}.f{i}"), 1, 0)]);
            int b = builder.AddLocation([new(builder.AddFunction($"pkg{i % 50}.g{i}"), 1, 0)]);
            builder.AddSample([b, a, root], [1, 1 + random.Next(1000)]);
        }

        using var bytes = new MemoryStream();
        Flamewright.Pprof.Export.ProfileWriter.Write(builder.Build(), bytes);
        string taskId = await UploadedTaskAsync(server, "CPU", bytes.ToArray());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        watch.Stop();

        int drawn = await browser.Page.Locator(".frame").CountAsync();
        Assert.InRange(drawn, 2, 5_000);
        Assert.True(await browser.Page.Locator(".frame.tiny").CountAsync() >= 1);
        Console.WriteLine($"100,001-node tree: page with graph and top table ready in {watch.ElapsedMilliseconds} ms, {drawn} frames drawn");
    });

    private static async Task<double[]> CumColumnAsync(IPage page) =>
        [.. (await page.Locator("#top tbody tr td:nth-child(5)").AllInnerTextsAsync()).Select(t => double.Parse(t.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture))];

    private static IEnumerable<JsonNode> Ancestors(JsonArray elements, JsonNode node)
    {
        var byId = elements.ToDictionary(e => (string)e!["id"]!, e => e!);
        for (string parent = (string)node["parentId"]!; parent != "-1"; parent = (string)byId[parent]["parentId"]!)
        {
            yield return byId[parent];
        }
    }

    private static async Task<Browser> OpenAnalysisAsync(TestServer server, string taskId)
    {
        Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, $"/#/analysis/{Uri.EscapeDataString(taskId)}"));
        await browser.Page.Locator(".frame[data-id='0']").WaitForAsync();
        return browser;
    }

    /// <summary>A task of <paramref name="events"/> whose one instance uploaded <paramref name="profile"/>.</summary>
    private static async Task<string> UploadedTaskAsync(TestServer server, string events, byte[] profile)
    {
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL();
        await agent.RegisterAsync();
        string serviceId = Flamewright.Server.Tasks.SkyWalkingIds.ServiceId("go-service");
        string taskId = await graphql.CreateTaskAsync(serviceId, [Flamewright.Server.Tasks.SkyWalkingIds.InstanceId(serviceId, "provider1")], events, duration: events == "CPU" ? 1 : null);
        await agent.PollAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, profile));
        return taskId;
    }

    /// <summary>A CPU task whose one instance uploaded testdata's CPU profile; with the tree the server answers.</summary>
    private static async Task<(string TaskId, JsonArray Elements)> UploadedCpuTaskAsync(TestServer server)
    {
        string taskId = await UploadedTaskAsync(server, "CPU", TestData.Bytes("cpu"));
        using GraphQLClient graphql = server.GraphQL();
        string instanceId = Flamewright.Server.Tasks.SkyWalkingIds.InstanceId(Flamewright.Server.Tasks.SkyWalkingIds.ServiceId("go-service"), "provider1");
        JsonNode data = await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id parentId codeSignature total self } } } }",
            new { r = new { taskId, instanceIds = new[] { instanceId } } });
        return (taskId, data["queryPprofAnalyze"]!["tree"]!["elements"]!.AsArray());
    }
}
