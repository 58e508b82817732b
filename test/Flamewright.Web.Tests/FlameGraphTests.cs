using System.Text.Json.Nodes;
using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Protocol.Pprof;
using Flamewright.Web.Tests.Support;
using Microsoft.Playwright;

namespace Flamewright.Web.Tests;

/// <summary>The analysis page: the canvas flame graph's geometry, zoom, keyboard, search, top table and downloads, in Chromium.</summary>
public sealed class FlameGraphTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task The_root_spans_the_window_and_sibling_widths_follow_their_values() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1400);
        IPage page = browser.Page;

        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        DrawnFrame root = frames.Single(f => f.Id == "0");
        LocatorBoundingBoxResult canvas = (await FlameGraphCanvas.Canvas(page).BoundingBoxAsync())!;
        // The page leaves its reading width for the graph: only the page's margins are left out.
        Assert.InRange(canvas.Width, 1400 - 60, 1400);
        Assert.InRange(root.Width, canvas.Width - 1, canvas.Width);

        // The two widest children of the widest node with at least two children wider than 20 px.
        var byParent = elements.GroupBy(e => (string)e!["parentId"]!).ToDictionary(g => g.Key, g => g.OrderByDescending(e => (long)e!["total"]!).ToList());
        long rootTotal = (long)elements[0]!["total"]!;
        var siblings = byParent.Values.Where(c => c.Count >= 2 && (long)c[1]!["total"]! * root.Width / rootTotal > 20).OrderByDescending(c => (long)c[0]!["total"]!).First();
        double a = frames.Single(f => f.Id == (string)siblings[0]!["id"]!).Width;
        double b = frames.Single(f => f.Id == (string)siblings[1]!["id"]!).Width;
        double expected = (double)(long)siblings[0]!["total"]! / (long)siblings[1]!["total"]!;
        Assert.InRange(a / b, expected * 0.999, expected * 1.001);
        // Each frame's width is its share of the root's, to a hundredth of a pixel.
        foreach (DrawnFrame frame in frames.Where(f => f.Kind == "frame"))
        {
            long total = (long)elements.Single(e => (string)e!["id"]! == frame.Id)!["total"]!;
            Assert.InRange(frame.Width, total * root.Width / rootTotal - 0.01, total * root.Width / rootTotal + 0.01);
        }

        await browser.ScreenshotAsync("flame-graph");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task On_a_high_density_screen_the_canvas_has_a_device_pixel_for_each_of_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1000, scale: 2);
        IPage page = browser.Page;

        int[] size = await FlameGraphCanvas.Canvas(page).EvaluateAsync<int[]>("c => [c.width, c.height, c.clientWidth, c.clientHeight]");

        Assert.Equal(2 * size[2], size[0]);
        Assert.Equal(2 * size[3], size[1]);
        await browser.ScreenshotAsync("flame-graph-hidpi");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Clicking_a_frame_zooms_to_it_and_the_breadcrumb_leads_back() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        double full = frames.Single(f => f.Id == "0").Width;
        // The narrowest child of the root that is drawn on its own (frames under a pixel wide are drawn as one block).
        DrawnFrame child = frames.Where(f => f.Kind == "frame" && elements.Any(e => (string)e!["id"]! == f.Id && (string)e["parentId"]! == "0")).MinBy(f => f.Width)!;

        await FlameGraphCanvas.ClickAsync(page, child);
        // Zooming asks the server for the frames under the child: the trail appears with its answer.
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(1);
        DrawnFrame zoomed = await FlameGraphCanvas.FrameAsync(page, f => f.Id == child.Id);
        Assert.InRange(zoomed.Width, full - 1, full + 1);
        Assert.Equal("ancestor", (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Kind);

        await page.Locator("#zoom-trail a").ClickAsync();
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(0);
        Assert.InRange((await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Width, full - 1, full + 1);
        Assert.InRange((await FlameGraphCanvas.FrameAsync(page, f => f.Id == child.Id)).Width, child.Width - 0.01, child.Width + 0.01);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_arrow_keys_move_between_frames_enter_zooms_and_escape_zooms_out() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        HashSet<string> rootChildren = [.. elements.Where(e => (string?)e!["parentId"] == "0").Select(e => (string)e!["id"]!)];

        // Tab from the control before the graph: the graph takes the focus, on its zoomed frame.
        await page.Locator("#orientation").FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("0", (await FlameGraphCanvas.FrameAsync(page, f => f.Focused)).Id);
        await page.Keyboard.PressAsync("ArrowDown");
        // Down goes to the root's first child, at the left edge.
        DrawnFrame focused = await FlameGraphCanvas.FrameAsync(page, f => f.Focused);
        Assert.Contains(focused.Id, rootChildren);
        Assert.Equal(0, focused.X);
        // The focused frame is read out and shown as on hover.
        Assert.StartsWith(focused.Name + ", ", await page.Locator("#frame-focus").TextContentAsync());
        Assert.Contains(focused.Name, await page.Locator("#tooltip").InnerTextAsync());

        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(1);
        Assert.Equal(focused.Id, (await FlameGraphCanvas.FrameAsync(page, f => f.Focused)).Id);
        await page.Keyboard.PressAsync("Escape");

        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(0);
        Assert.Equal("0", (await FlameGraphCanvas.FrameAsync(page, f => f.Focused)).Id);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_breadcrumb_works_from_the_keyboard() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        await FlameGraphCanvas.ClickAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Id == (string)elements.First(e => (string?)e!["parentId"] == "0")!["id"]!));
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
        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        Assert.Equal(frames.Where(f => f.Kind == "frame" && f.Name.Contains("hashLoop", StringComparison.Ordinal)).Select(f => f.Id), frames.Where(f => f.Match).Select(f => f.Id));
        Assert.Contains(frames, f => f.Match);
        Assert.True(frames.Length > frames.Count(f => f.Match));
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
        string name = await page.Locator("#top tbody tr").Nth(1).Locator("td").First.InnerTextAsync();
        await page.Locator("#top tbody tr").Nth(1).ClickAsync();
        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        Assert.Contains(frames, f => f.Selected);
        Assert.All(frames.Where(f => f.Selected), f => Assert.Equal(name, f.Name));
        Assert.Equal(frames.Count(f => f.Name == name), frames.Count(f => f.Selected));
        await Assertions.Expect(page.Locator("#top tbody tr.selected")).ToHaveCountAsync(1);
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
        string taskId = await CpuTaskOfAsync(server, builder =>
        {
            int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
            builder.AddSample([builder.AddLocation([new(builder.AddFunction("main.big"), 2, 0)]), root], [1, 1_000_000]);
            for (int i = 0; i < 50; i++)
            {
                builder.AddSample([builder.AddLocation([new(builder.AddFunction($"main.tiny{i}"), 4, 0)]), root], [1, 10]);
            }
        });
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        Assert.DoesNotContain(await FlameGraphCanvas.FramesAsync(page), f => f.Name == "main.tiny0");

        await FlameGraphCanvas.ClickAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Kind == "tiny" && f.Name == "50 small frames"));

        await Assertions.Expect(page.Locator("#zoom-trail")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("main.main › narrower frames$"));
        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        Assert.Equal(50, frames.Count(f => f.Name.StartsWith("main.tiny", StringComparison.Ordinal)));
        Assert.DoesNotContain(frames, f => f.Name == "main.big");
        // Back to main.main with all its children.
        await page.Locator("#zoom-trail a").Last.ClickAsync();
        await Assertions.Expect(page.Locator("#zoom-trail")).ToHaveTextAsync("root › main.main");
        Assert.Contains(await FlameGraphCanvas.FramesAsync(page), f => f.Name == "main.big");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Function_names_with_markup_are_painted_and_shown_as_text_and_tiny_frames_are_drawn_as_one_labelled_frame() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        const string Script = "<script>window.pwned=1</script>main.evil";
        const string Image = "<img id=injected src=x onerror=window.pwned=2>";
        string taskId = await CpuTaskOfAsync(server, builder =>
        {
            int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
            builder.AddSample([builder.AddLocation([new(builder.AddFunction(Script), 2, 0)]), root], [1, 100_000]);
            builder.AddSample([builder.AddLocation([new(builder.AddFunction(Image), 3, 0)]), root], [1, 50_000]);
            for (int i = 0; i < 200; i++)
            {
                builder.AddSample([builder.AddLocation([new(builder.AddFunction($"main.tiny{i}"), 4, 0)]), root], [1, 1]);
            }
        });
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        Assert.Contains(frames, f => f.Name == Script && f.Label.Length > 0);
        Assert.Contains(frames, f => f.Name == Image && f.Label.Length > 0);
        Assert.Contains(frames, f => f.Kind == "tiny" && f.Name == "200 small frames");
        await FlameGraphCanvas.HoverAsync(page, frames.Single(f => f.Name == Image));
        Assert.StartsWith(Image, await page.Locator("#tooltip").InnerTextAsync());
        Assert.Contains(Script, await page.Locator("#top").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#injected").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.pwned"));
        await browser.ScreenshotAsync("hostile-names");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Go_names_lose_their_package_path_before_their_function_is_cut() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        const string Name = "github.com/acme/shop/internal/checkout.(*Cart).Total";

        // Each character 10 px wide, so a width of 10 × n + 1 holds exactly n characters (a pixel is kept as slack).
        string[] labels = await browser.Page.EvaluateAsync<string[]>("""
            async name => {
              const { fitLabel } = await import('/ui/flame.js');
              return [521, 520, 221, 220, 131, 130, 61, 11].map(w => fitLabel(name, w, () => 10));
            }
            """, Name);

        Assert.Equal([Name, "checkout.(*Cart).Total", "checkout.(*Cart).Total", "(*Cart).Total", "(*Cart).Total", "(*Cart).Tot…", "(*Car…", ""], labels);
        string[] packages = await browser.Page.EvaluateAsync<string[]>("""
            async () => {
              const { packageOf } = await import('/ui/flame.js');
              return ['main.main', 'runtime.mallocgc', 'net/http.(*conn).serve', 'example.com/m.F[go.shape.*example.com/t.T]', 'noPackage'].map(packageOf);
            }
            """);
        Assert.Equal(["main", "runtime", "net/http", "example.com/m", ""], packages);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_flame_orientation_puts_the_root_at_the_bottom_and_icicle_at_the_top() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        string child = (string)elements.First(e => (string?)e!["parentId"] == "0")!["id"]!;

        DrawnFrame[] icicle = await FlameGraphCanvas.FramesAsync(page);
        await page.SelectOptionAsync("#orientation", "flame");
        DrawnFrame[] flame = await FlameGraphCanvas.FramesAsync(page);

        Assert.True(icicle.Single(f => f.Id == "0").Y < icicle.Single(f => f.Id == child).Y, "icicle: the root is above its children");
        Assert.True(flame.Single(f => f.Id == "0").Y > flame.Single(f => f.Id == child).Y, "flame: the root is below its children");
        double height = await FlameGraphCanvas.Graph(page).EvaluateAsync<double>("g => g.clientHeight");
        Assert.InRange(flame.Single(f => f.Id == "0").Y + 18, height - 0.5, height + 0.5);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_narrow_window_still_shows_the_graph_and_the_top_table() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 420);
        IPage page = browser.Page;

        double root = (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Width;
        Assert.InRange(root, 300, 420);
        Assert.True(await page.Locator("#top tbody tr").First.IsVisibleAsync());
        await browser.ScreenshotAsync("narrow");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_graph_deeper_than_the_window_paints_the_rows_in_view_and_its_deepest_frame_answers_the_pointer() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        string taskId = await CpuTaskOfAsync(server, builder =>
        {
            int[] stack = [.. Enumerable.Range(0, 200).Select(i => builder.AddLocation([new(builder.AddFunction($"main.level{i}"), 1, 0)])).Reverse()];
            builder.AddSample(stack, [1, 1_000_000]);
            builder.AddSample([.. stack.TakeLast(2)], [1, 500_000]);
        });
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1000);
        IPage page = browser.Page;

        // 201 rows of 18 px: the canvas is as tall as the window, the graph as tall as its rows.
        Assert.InRange(await FlameGraphCanvas.Canvas(page).EvaluateAsync<double>("c => c.clientHeight"), 18, 800);
        Assert.Equal(201 * 18, await FlameGraphCanvas.Graph(page).EvaluateAsync<double>("g => g.clientHeight"));
        DrawnFrame deepest = await FlameGraphCanvas.FrameAsync(page, f => f.Name == "main.level199");
        await FlameGraphCanvas.HoverAsync(page, deepest);

        Assert.StartsWith("main.level199", await page.Locator("#tooltip").InnerTextAsync());
        await page.WaitForFunctionAsync("y => { const p = window.flamewright.painted(); return p.top <= y && y + 17 <= p.top + p.canvasHeight; }", deepest.Y);
        await FlameGraphCanvas.ClickAsync(page, deepest);
        await Assertions.Expect(page.Locator("#zoom-trail span")).ToHaveTextAsync("main.level199");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_resized_window_redraws_the_graph_at_its_new_width() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1400);
        IPage page = browser.Page;
        double wide = (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Width;

        await page.SetViewportSizeAsync(800, 800);
        await page.WaitForFunctionAsync("w => window.flamewright.frames()[0].width < w - 100", wide);

        double narrow = (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Width;
        double canvas = (await FlameGraphCanvas.Canvas(page).BoundingBoxAsync())!.Width;
        Assert.InRange(narrow, canvas - 1, canvas);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_address_keeps_the_zoom_search_and_orientation_and_a_pasted_link_shows_the_same_graph() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        string widest = (string)elements.Where(e => (string?)e!["parentId"] == "0").MaxBy(e => (long)e!["total"]!)!["id"]!;

        await FlameGraphCanvas.ClickAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Id == widest));
        await Assertions.Expect(page.Locator("#zoom-trail a")).ToHaveCountAsync(1);
        await page.SelectOptionAsync("#orientation", "flame");
        await page.FillAsync("#search", "hashLoop");
        await Assertions.Expect(page.Locator("#matched")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^matched "));
        string address = page.Url;
        DrawnFrame[] shown = await FlameGraphCanvas.FramesAsync(page);
        string trail = await page.Locator("#zoom-trail").InnerTextAsync();
        string matched = await page.Locator("#matched").InnerTextAsync();

        Assert.Contains("orientation=flame", address);
        Assert.Contains("search=hashLoop", address);
        Assert.Contains("zoom=", address);
        await using Browser pasted = await Browser.OpenAsync(new Uri(address));
        await FlameGraphCanvas.DrawnAsync(pasted.Page);
        await Assertions.Expect(pasted.Page.Locator("#matched")).ToHaveTextAsync(matched);
        Assert.Equal(trail, await pasted.Page.Locator("#zoom-trail").InnerTextAsync());
        Assert.Equal("flame", await pasted.Page.Locator("#orientation").InputValueAsync());
        Assert.Equal("hashLoop", await pasted.Page.Locator("#search").InputValueAsync());
        Assert.Equal(shown.Select(f => (f.Id, f.X, f.Y, f.Width, f.Match)), (await FlameGraphCanvas.FramesAsync(pasted.Page)).Select(f => (f.Id, f.X, f.Y, f.Width, f.Match)));
        Assert.Equal(address, pasted.Page.Url);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Leaving_the_graph_leaves_the_address_of_the_page_gone_to_even_when_the_graph_was_asked_again_on_the_way() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        // The task's page is narrower than the graph's: the graph, on its way out, sees its width change and asks
        // the server for a view at the new width (after 300 ms).
        await page.Locator("#crumbs a", new PageLocatorOptions { HasText = "Task" }).ClickAsync();
        await page.Locator("#task-status").WaitForAsync();
        await page.WaitForTimeoutAsync(1_500);

        Assert.EndsWith($"#/tasks/{Uri.EscapeDataString(taskId)}", page.Url);
        Assert.Equal(1, await page.Locator("#task-status").CountAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Opening_a_graphs_address_asks_for_its_first_look_while_the_rest_of_the_page_still_loads_and_only_once() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        // Not the page itself: the graph's address must be a page load, not a move within the page.
        await using Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, "/healthz"));
        IPage page = browser.Page;
        var firstLooks = new List<string>();
        var asked = new TaskCompletionSource();
        var analysisDelivered = new TaskCompletionSource();
        bool askedBeforeAnalysisJs = false;
        page.Request += (_, request) =>
        {
            if (request.Url.EndsWith("/graphql", StringComparison.Ordinal) && (request.PostData ?? "").Contains("queryPprofSampleTypes", StringComparison.Ordinal))
            {
                firstLooks.Add(request.PostData!);
                askedBeforeAnalysisJs |= !analysisDelivered.Task.IsCompleted;
                asked.TrySetResult();
            }
        };
        // The graph's page (analysis.js) is held back until the first look has been asked for, or for 5 s.
        await page.RouteAsync("**/ui/analysis.js", async route =>
        {
            await Task.WhenAny(asked.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            analysisDelivered.TrySetResult();
            await route.ContinueAsync();
        });

        await page.GotoAsync(new Uri(server.HttpAddress, $"/#/analysis/{Uri.EscapeDataString(taskId)}").ToString());
        await FlameGraphCanvas.DrawnAsync(page);

        Assert.True(askedBeforeAnalysisJs, "the first look was asked for only once the graph's page had loaded");
        Assert.Single(firstLooks);
        Assert.NotEmpty(await FlameGraphCanvas.FramesAsync(page));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_selection_shown_is_kept_in_the_address_and_a_reload_asks_for_it_again() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, string first, string second) = await HeapTaskOfTwoInstancesAsync(server);
        using GraphQLClient graphql = server.GraphQL();
        JsonNode alone = await graphql.DataAsync(
            "query ($r: PprofAnalyzationRequest!) { queryPprofAnalyze(request: $r) { tree { elements { id total } } } }",
            new { r = new { taskId, instanceIds = new[] { second }, granularity = "LINE" } });
        long secondAloneByLine = (long)alone["queryPprofAnalyze"]!["tree"]!["elements"]![0]!["total"]!;
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator($"#analysis-form input[value='{first}']").UncheckAsync();
        await page.SelectOptionAsync("#granularity", "LINE");
        await page.ClickAsync("#analysis-form button[type=submit]");
        await page.WaitForFunctionAsync("() => location.hash.includes('granularity=line')");
        await page.ReloadAsync();
        await FlameGraphCanvas.DrawnAsync(page);

        Assert.False(await page.Locator($"#analysis-form input[value='{first}']").IsCheckedAsync());
        Assert.True(await page.Locator($"#analysis-form input[value='{second}']").IsCheckedAsync());
        Assert.Equal("LINE", await page.Locator("#granularity").InputValueAsync());
        Assert.Equal(secondAloneByLine, (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Total);
        Assert.Matches(":[0-9]+$", await page.Locator("#top tbody tr td").First.InnerTextAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_goroutine_task_shows_its_goroutines_grouped_by_stack_largest_first_above_the_graph() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        string taskId = await UploadedTaskAsync(server, "GOROUTINE", TestData.Bytes("goroutine"));
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        ILocator largest = page.Locator("#stack-groups ol.groups > li").First;
        await Assertions.Expect(largest.Locator("summary")).ToContainTextAsync("3 goroutines");
        Assert.Contains(" in main.parkedReceiver", await largest.Locator("summary").InnerTextAsync());
        await Assertions.Expect(page.Locator("#stack-groups h2")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]+ goroutines in [0-9]+ groups$"));
        Assert.Equal(1, await page.Locator("#stack-groups summary", new PageLocatorOptions { HasText = "handler=handler=/api/v1, ünïcode" }).CountAsync());
        await largest.Locator("summary").ClickAsync();
        Assert.Equal("runtime.gopark", await largest.Locator("ol.frames li").First.InnerTextAsync());
        Assert.True((await page.Locator("#stack-groups").BoundingBoxAsync())!.Y < (await FlameGraphCanvas.Graph(page).BoundingBoxAsync())!.Y, "the groups come before the graph");
        await browser.ScreenshotAsync("goroutines");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_heaviest_stacks_of_any_task_open_on_demand_under_the_top_table() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        Assert.Equal(0, await page.Locator("#stack-groups ol.groups").CountAsync());

        await page.Locator("#stacks > summary").ClickAsync();

        await Assertions.Expect(page.Locator("#stack-groups h2")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9,]+ distinct stacks$"));
        Assert.Matches(@"^[0-9.]+ (ms|s) \([0-9.]+%\) in ", await page.Locator("#stack-groups ol.groups > li summary").First.InnerTextAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_labels_open_on_demand_with_each_values_share_of_its_key_and_of_the_profile() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        LabelTable expected = LabelTable.Build([ProfileReader.Read(TestData.Bytes("cpu"))], new FlameOptions { SampleType = "cpu" });
        LabelKeyTotal handler = expected.Keys.Single(k => k.Key == "handler");
        string ofAll = (100.0 * handler.Total / expected.Total).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "% of all";
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator("#labels > summary").ClickAsync();

        ILocator key = page.Locator(".label-key", new PageLocatorOptions { Has = page.Locator("h3", new PageLocatorOptions { HasTextString = "handler" }) });
        await Assertions.Expect(key.Locator("h3")).ToContainTextAsync(ofAll);
        Assert.Equal(expected.Keys.Select(k => k.Key), await page.Locator(".label-key h3").EvaluateAllAsync<string[]>("hs => hs.map(h => h.firstChild.textContent)"));
        Assert.Equal(["handler=/api/v1, ünïcode", "100.00%"], [await key.Locator("tbody tr td").Nth(0).InnerTextAsync(), await key.Locator("tbody tr td").Nth(2).InnerTextAsync()]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_label_splits_the_graph_into_one_frame_per_value_and_a_value_keeps_only_its_samples() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        Profile cpu = ProfileReader.Read(TestData.Bytes("cpu"));
        FlameTree split = FlameTreeBuilder.Build(cpu, new FlameOptions { SampleType = "cpu", TagSplit = "tenant" });
        FlameTree acme = FlameTreeBuilder.Build(cpu, new FlameOptions { SampleType = "cpu", TagFocus = "tenant=^acme corp$" });
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1400);
        IPage page = browser.Page;
        await page.Locator("#labels > summary").ClickAsync();

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "split the graph by tenant" }).ClickAsync();
        await page.WaitForFunctionAsync("() => location.hash.includes('split=tenant')");
        await FlameGraphCanvas.DrawnAsync(page);
        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        DrawnFrame root = frames.Single(f => f.Id == "0");
        DrawnFrame[] values = [.. frames.Where(f => f.Kind == "frame" && Math.Abs(f.Y - root.Y - root.Height) < 2).OrderBy(f => f.Name, StringComparer.Ordinal)];
        Assert.Equal(split.Root.Children.Select(c => (c.Name, c.Total)), values.Select(f => (f.Name, f.Total)));
        Assert.Equal(["(no tenant)", "tenant=acme corp"], values.Select(f => f.Name));
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await browser.ScreenshotAsync("label-split");

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "only tenant=acme corp" }).ClickAsync();
        await page.WaitForFunctionAsync("() => location.hash.includes('tagfocus=')");
        await FlameGraphCanvas.DrawnAsync(page);

        Assert.Equal(@"tenant=^acme corp$", await page.Locator("#tag-focus").InputValueAsync());
        Assert.Equal(acme.Total, (await FlameGraphCanvas.FrameAsync(page, f => f.Id == "0")).Total);
        Assert.True(0 < acme.Total && acme.Total < split.Total, "the filter must keep some samples and drop others for this test to mean anything");
        Assert.Contains("tagFocus=", await page.Locator("a.download-folded").GetAttributeAsync("href"), StringComparison.Ordinal);
        Assert.DoesNotContain("tagFocus=", await page.Locator("a.download-pprof").GetAttributeAsync("href"), StringComparison.Ordinal);

        // A value with a comma, a slash and letters outside ASCII is matched exactly too (a filter's commas separate
        // expressions, so the page writes it \x2c).
        const string Handler = "handler=/api/v1, ünïcode";
        FlameTree handler = FlameTreeBuilder.Build(cpu, new FlameOptions { SampleType = "cpu", TagFocus = @"handler=^handler=/api/v1\x2c ünïcode$" });
        await page.Locator("#tag-split").FillAsync("");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = $"only handler={Handler}" }).ClickAsync();
        await page.WaitForFunctionAsync("() => decodeURIComponent(location.hash).includes('x2c')");
        await page.WaitForFunctionAsync($"() => window.flamewright.frames().some(f => f.id === '0' && f.total === {handler.Total})");

        Assert.True(0 < handler.Total && handler.Total < split.Total, "the filter must keep some samples and drop others for this test to mean anything");
        Assert.True(await page.Locator("#message").IsHiddenAsync(), "no error is shown");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_right_click_on_a_frame_shows_its_callers_above_and_its_callees_below_with_go_tool_pprofs_numbers() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        Sandwich expected = Sandwich.Build([ProfileReader.Read(TestData.Bytes("cpu"))], new FlameOptions { SampleType = "cpu" }, "main.hashLoop");
        await using Browser browser = await OpenAnalysisAsync(server, taskId, width: 1400);
        IPage page = browser.Page;

        await FlameGraphCanvas.RightClickAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Name == "main.hashLoop" && f.Kind == "frame"));
        await Assertions.Expect(page.Locator("#sandwich h2")).ToContainTextAsync("main.hashLoop");

        DrawnFrame[] callers = await FlameGraphCanvas.SandwichFramesAsync(page, "callers");
        DrawnFrame[] callees = await FlameGraphCanvas.SandwichFramesAsync(page, "callees");
        DrawnFrame callersRoot = callers.Single(f => f.Kind == "frame" && f.Name == "main.hashLoop");
        DrawnFrame calleesRoot = callees.Single(f => f.Kind == "frame" && f.Name == "main.hashLoop");
        Assert.Equal((expected.Cum, expected.Cum), (callersRoot.Total, calleesRoot.Total));
        // Callers sit above the function (the graph is upside down), callees below it.
        DrawnFrame[] aboveIt = [.. callers.Where(f => f.Kind == "frame" && Math.Abs(f.Y + f.Height + 1 - callersRoot.Y) < 2)];
        Assert.Equal(expected.CallersTree.Root.Children.Single().Children.Select(c => (c.Name, c.Total)).Order(), aboveIt.Select(f => (f.Name, f.Total)).Order());
        Assert.True(callees.Where(f => f.Kind == "frame" && f.Name != "main.hashLoop").All(f => f.Y > calleesRoot.Y), "callees are drawn below the function");
        Assert.Equal(expected.Callees.Select(e => e.Name), await page.Locator("#sandwich-callees-table tbody tr td:first-child").AllInnerTextsAsync());
        Assert.Equal(expected.Callers.Select(e => e.Name), await page.Locator("#sandwich-callers-table tbody tr td:first-child").AllInnerTextsAsync());
        await page.WaitForFunctionAsync("() => location.hash.includes('sandwich=main.hashLoop')");
        // The function's row in the middle of the window: its nearest callers above, its callees below.
        await page.EvaluateAsync("() => window.scrollTo(0, document.querySelector('#sandwich-callees').getBoundingClientRect().top + window.scrollY - window.innerHeight * 0.55)");
        await browser.ScreenshotAsync("sandwich");

        // The address reopens it, and a caller's right click centres the sandwich on that caller.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#sandwich h2")).ToContainTextAsync("main.hashLoop");
        DrawnFrame caller = (await FlameGraphCanvas.SandwichFramesAsync(page, "callers")).First(f => f.Name == expected.Callers[0].Name);
        await page.Locator("#sandwich-callers").ClickAsync(new LocatorClickOptions { Position = new() { X = (float)(caller.X + Math.Min(caller.Width / 2, 20)), Y = (float)(caller.Y + caller.Height / 2) }, Button = MouseButton.Right });
        await Assertions.Expect(page.Locator("#sandwich h2")).ToContainTextAsync(expected.Callers[0].Name);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_hottest_lines_and_a_functions_own_lines_are_listed_as_go_tool_pprof_lines_lists_them() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        TopTable byLine = TopTable.Build(ProfileReader.Read(TestData.Bytes("cpu")), new FlameOptions { SampleType = "cpu", Granularity = FrameGranularity.Line });
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator("#hot-lines > summary").ClickAsync();
        await page.Locator("#hot-lines-table tbody tr").First.WaitForAsync();
        string[] hottest = [.. await page.Locator("#hot-lines-table tbody td:first-child").EvaluateAllAsync<string[]>("cells => cells.map(c => c.title)")];
        await FlameGraphCanvas.RightClickAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Name == "main.hashLoop" && f.Kind == "frame"));
        await page.Locator("#sandwich-lines tbody tr").First.WaitForAsync();
        string[] own = [.. await page.Locator("#sandwich-lines tbody td:first-child").EvaluateAllAsync<string[]>("cells => cells.map(c => c.title)")];

        Assert.Equal(byLine.Entries.Take(100).Select(e => e.Name), hottest);
        Assert.Equal(byLine.Entries.Where(e => e.Name.StartsWith("main.hashLoop /", StringComparison.Ordinal)).Take(100).Select(e => e.Name), own);
        Assert.StartsWith("main.hashLoop main.go:", await page.Locator("#sandwich-lines tbody td").First.InnerTextAsync(), StringComparison.Ordinal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_row_of_the_top_table_or_a_search_offers_its_functions_callers_and_callees() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, _) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        Assert.True(await page.Locator("#sandwich-open").IsHiddenAsync());
        string first = await page.Locator("#top tbody tr td").First.InnerTextAsync();

        await page.Locator("#top tbody tr").First.ClickAsync();
        await page.Locator("#sandwich-open").ClickAsync();

        await Assertions.Expect(page.Locator("#sandwich h2")).ToContainTextAsync(first);
        await page.Locator("#sandwich-close").ClickAsync();
        Assert.True(await page.Locator("#sandwich").IsHiddenAsync());
        Assert.DoesNotContain("sandwich=", page.Url, StringComparison.Ordinal);

        // A search picks too: Enter opens the heaviest function it matches.
        await page.Locator("#search").FillAsync(@"hashLoop$");
        await page.Locator("#search").PressAsync("Enter");
        await Assertions.Expect(page.Locator("#sandwich h2")).ToContainTextAsync("main.hashLoop");
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
        await page.WaitForFunctionAsync(ChangedFramesDrawn);
        Assert.True(await page.Locator("#legend").IsVisibleAsync());
        int changed = (await FlameGraphCanvas.FramesAsync(page)).Count(f => f.Change is "grew" or "shrank");
        await browser.ScreenshotAsync("diff");

        await using Browser itself = await OpenAnalysisAsync(server, before);
        await itself.Page.SelectOptionAsync("#compare", after);
        await itself.Page.WaitForFunctionAsync(ChangedFramesDrawn);
        Assert.True(changed > 0);
        await itself.Page.SelectOptionAsync("#compare", "");
        // The page reloads the graph after the choice: Playwright's assertions wait for it.
        await Assertions.Expect(itself.Page.Locator("#legend")).ToBeHiddenAsync();
        await itself.Page.WaitForFunctionAsync($"() => !({ChangedFramesDrawn})()");
        Assert.All(await FlameGraphCanvas.FramesAsync(itself.Page), f => Assert.Null(f.Change));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_diff_lists_the_functions_whose_cum_changed_most_by_share_or_by_value() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, string first, _) = await HeapTaskOfTwoInstancesAsync(server);
        var options = new FlameOptions { SampleType = "inuse_space" };
        Profile before = ProfileReader.Read(TestData.Bytes("heap-a"));
        Profile after = ProfileReader.Read(TestData.Bytes("heap-b"));
        long beforeTotal = FlameTreeBuilder.Build(before, options).Total;
        long afterTotal = FlameTreeBuilder.Build(after, options).Total;
        var beforeCum = TopTable.Build(before, options).Entries.ToDictionary(e => e.Name, e => e.Cum, StringComparer.Ordinal);
        var afterCum = TopTable.Build(after, options).Entries.ToDictionary(e => e.Name, e => e.Cum, StringComparer.Ordinal);
        var changed = beforeCum.Keys.Union(afterCum.Keys)
            .Select(name => (Name: name, Before: beforeCum.GetValueOrDefault(name), After: afterCum.GetValueOrDefault(name)))
            .Where(r => r.Before != r.After).ToList();
        string[] byShare = [.. changed
            .OrderByDescending(r => Math.Abs((afterTotal != 0 ? 100.0 * r.After / afterTotal : 0) - (beforeTotal != 0 ? 100.0 * r.Before / beforeTotal : 0)))
            .ThenByDescending(r => Math.Abs(r.After - r.Before)).ThenBy(r => r.Name, StringComparer.Ordinal).Take(5).Select(r => r.Name)];
        string[] byValue = [.. changed
            .OrderByDescending(r => Math.Abs(r.After - r.Before)).ThenBy(r => r.Name, StringComparer.Ordinal).Take(5).Select(r => r.Name)];
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator($"#analysis-form input[value='{first}']").UncheckAsync();
        await page.SelectOptionAsync("#compare", $"{taskId}|{first}");
        await page.Locator("#changed tbody tr").First.WaitForAsync();
        string[] shownByShare = [.. (await page.Locator("#changed tbody tr td:first-child").AllInnerTextsAsync()).Take(5)];
        await page.SelectOptionAsync("#diff-mode", "value");
        await Assertions.Expect(page.Locator("#changed thead")).ToContainTextAsync("Points of the larger total");
        string[] shownByValue = [.. (await page.Locator("#changed tbody tr td:first-child").AllInnerTextsAsync()).Take(5)];

        Assert.Equal(byShare, shownByShare);
        Assert.Equal(byValue, shownByValue);
        Assert.Contains("diff=value", page.Url);
        Assert.Contains("more than in the base", await page.Locator("#legend").InnerTextAsync());
        await browser.ScreenshotAsync("diff-changes");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_diff_draws_its_frames_under_half_a_pixel_as_one_block_per_parent() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        var builder = new Flamewright.Pprof.Model.ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")]);
        int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
        builder.AddSample([builder.AddLocation([new(builder.AddFunction("main.big"), 2, 0)]), root], [1, 10_000_000]);
        for (int i = 0; i < 300; i++)
        {
            // About 0.12 px each in a 1,240 px graph, 36 px together.
            builder.AddSample([builder.AddLocation([new(builder.AddFunction($"main.tiny{i}"), 4, 0)]), root], [1, 1_000]);
        }

        using var bytes = new MemoryStream();
        Flamewright.Pprof.Export.ProfileWriter.Write(builder.Build(), bytes);
        string before = await UploadedTaskAsync(server, "HEAP", bytes.ToArray());
        string after = await UploadedTaskAsync(server, "HEAP", bytes.ToArray());
        await using Browser browser = await OpenAnalysisAsync(server, after);
        IPage page = browser.Page;

        // The diff holds its whole tree in the page: the page itself sums the frames too narrow to draw.
        await page.SelectOptionAsync("#compare", before);
        // The diff is drawn once frames carry a change (the same profile twice: no change).
        await page.WaitForFunctionAsync("() => window.flamewright.frames().some(f => f.change === 'same')");

        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(page);
        Assert.Contains(frames, f => f.Kind == "tiny" && f.Name == "300 small frames" && f.Id.EndsWith("~small", StringComparison.Ordinal));
        Assert.DoesNotContain(frames, f => f.Name.StartsWith("main.tiny", StringComparison.Ordinal));
        Assert.Equal("", await page.Locator("#message").InnerTextAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_diff_against_another_instance_of_the_same_task_compares_the_selection_with_it() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, string first, _) = await HeapTaskOfTwoInstancesAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;

        await page.Locator($"#analysis-form input[value='{first}']").UncheckAsync();
        await page.SelectOptionAsync("#compare", $"{taskId}|{first}");

        await page.WaitForFunctionAsync(ChangedFramesDrawn);
        Assert.True(await page.Locator("#legend").IsVisibleAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Hovering_a_frame_shows_its_name_file_total_self_and_shares_with_units() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        (string taskId, JsonArray elements) = await UploadedCpuTaskAsync(server);
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        IPage page = browser.Page;
        JsonNode widest = elements.Where(e => (string?)e!["parentId"] == "0").MaxBy(e => (long)e!["total"]!)!;

        await FlameGraphCanvas.HoverAsync(page, await FlameGraphCanvas.FrameAsync(page, f => f.Id == (string)widest["id"]!));
        string tip = await page.Locator("#tooltip").InnerTextAsync();

        Assert.Contains((string)widest["codeSignature"]!, tip);
        string file = ProfileReader.Read(TestData.Bytes("cpu")).Functions.ToArray().First(f => f.Name == (string)widest["codeSignature"]!).FileName;
        Assert.EndsWith(".go", file, StringComparison.Ordinal);
        Assert.Contains(file, tip, StringComparison.Ordinal);
        string share = (100.0 * (long)widest["total"]! / (long)elements[0]!["total"]!).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"({share}% of all, {share}% of zoomed)", tip);
        Assert.Matches(@"total [0-9.]+ (ms|s) ", tip);
        Assert.Contains("self ", tip);
        await page.Mouse.MoveAsync(1, 1);
        await Assertions.Expect(page.Locator("#tooltip")).ToBeHiddenAsync();
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_tree_of_a_hundred_thousand_nodes_is_drawn_with_its_tiny_frames_aggregated() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        string taskId = await CpuTaskOfAsync(server, builder =>
        {
            int root = builder.AddLocation([new(builder.AddFunction("main.main"), 1, 0)]);
            var random = new Random(7);
            for (int i = 0; i < 50_000; i++)
            {
                int a = builder.AddLocation([new(builder.AddFunction($"pkg{i % 50}.f{i}"), 1, 0)]);
                int b = builder.AddLocation([new(builder.AddFunction($"pkg{i % 50}.g{i}"), 1, 0)]);
                builder.AddSample([b, a, root], [1, 1 + random.Next(1000)]);
            }
        });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await using Browser browser = await OpenAnalysisAsync(server, taskId);
        watch.Stop();

        DrawnFrame[] frames = await FlameGraphCanvas.FramesAsync(browser.Page);
        Assert.InRange(frames.Length, 2, 5_000);
        Assert.Contains(frames, f => f.Kind == "tiny");
        // Drawn frames and blocks of narrower ones fill each parent's width: nothing under a parent is lost.
        double rootWidth = frames.Single(f => f.Id == "0").Width;
        Assert.InRange(frames.Where(f => f.Y == 2 * 18).Sum(f => f.Width), rootWidth - 0.5, rootWidth + 0.01);
        // The first 50 rows of the top table come with the graph, the rest of its page of 300 once the page is idle,
        // heaviest first throughout.
        await Assertions.Expect(browser.Page.Locator("#top tbody tr")).ToHaveCountAsync(300);
        double[] flat = [.. (await browser.Page.Locator("#top tbody tr td:nth-child(3)").AllInnerTextsAsync()).Select(t => double.Parse(t.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(flat.OrderByDescending(v => v), flat);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            await browser.Page.Locator("#top tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.row)"));
        Console.WriteLine($"100,001-node tree: page with graph and top table ready in {watch.ElapsedMilliseconds} ms, {frames.Length} frames drawn");
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

    /// <summary>A script for <c>WaitForFunctionAsync</c>: true once the graph shows a frame whose share grew or shrank.</summary>
    private const string ChangedFramesDrawn = "() => window.flamewright && window.flamewright.frames().some(f => f.change === 'grew' || f.change === 'shrank')";

    private static async Task<Browser> OpenAnalysisAsync(TestServer server, string taskId, int width = 1280, double scale = 1)
    {
        Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, $"/#/analysis/{Uri.EscapeDataString(taskId)}"), width, scale: scale);
        await FlameGraphCanvas.DrawnAsync(browser.Page);
        return browser;
    }

    /// <summary>A HEAP task of two instances: the first uploaded testdata's heap-a, the second heap-b.</summary>
    private static async Task<(string TaskId, string First, string Second)> HeapTaskOfTwoInstancesAsync(TestServer server)
    {
        using GoLikeAgent first = server.Agent("go-service", "provider1");
        using GoLikeAgent second = server.Agent("go-service", "provider2");
        using GraphQLClient graphql = server.GraphQL();
        string taskId = await graphql.TaskTakenByAsync("HEAP", first, second);
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await first.UploadAsync(taskId, TestData.Bytes("heap-a")));
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await second.UploadAsync(taskId, TestData.Bytes("heap-b")));
        return (taskId, first.InstanceId, second.InstanceId);
    }

    /// <summary>A CPU task whose one instance uploaded the profile <paramref name="build"/> makes (samples and cpu nanoseconds).</summary>
    private static Task<string> CpuTaskOfAsync(TestServer server, Action<Flamewright.Pprof.Model.ProfileBuilder> build)
    {
        var builder = new Flamewright.Pprof.Model.ProfileBuilder([new("samples", "count"), new("cpu", "nanoseconds")]);
        build(builder);
        using var bytes = new MemoryStream();
        Flamewright.Pprof.Export.ProfileWriter.Write(builder.Build(), bytes);
        return UploadedTaskAsync(server, "CPU", bytes.ToArray());
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
