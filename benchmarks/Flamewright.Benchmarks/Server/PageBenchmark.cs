using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flamewright.Pprof.Model;
using Flamewright.Server.Tasks;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// What the analysis page asks when it opens a big task, timed against a <c>flamewright server</c> process: the
/// page's request as it was (the whole tree through <c>queryPprofAnalyze</c> and every top-table row) and as it is
/// now (<c>queryPprofFlameView</c> for a 1,400-pixel graph and 300 top rows), each cold (the first request of a fresh
/// process, which reads and decodes every upload) and warm (asked again), with the size of each answer; then a zoom.
/// A server without <c>queryPprofFlameView</c> (a build from before it) is measured on the first request alone, so the
/// same file measures both builds.
/// </summary>
internal static class PageBenchmark
{
    /// <summary>The width the page asks for: a 1,400-pixel window.</summary>
    public const int Width = 1400;

    private const string OldPage = """
        query ($r: PprofAnalyzationRequest!) {
          queryPprofAnalyze(request: $r) { sampleType { type unit } omittedElements tree { elements { id parentId codeSignature total self } } }
          queryPprofTop(request: $r, limit: 0) { rows { name flat flatPercent cum cumPercent } } }
        """;

    /// <summary>The page's first look: the default view for a graph of width <c>w</c> and 300 top rows.</summary>
    internal const string NewPage = """
        query ($r: PprofAnalyzationRequest!, $w: Int!, $z: [String!]) {
          queryPprofFlameView(request: $r, zoom: $z, width: $w) { total span minTotal ancestors { node name total } names frames { node parent nameIndex total self matched } narrower { parent count total } }
          queryPprofTop(request: $r, limit: 300) { rowCount rows { name flat flatPercent cum cumPercent } } }
        """;

    /// <summary>
    /// How long a fresh server process runs before the cold request: a person does not arrive within milliseconds of a
    /// start, and by then the server's warm-up (WarmUp) has compiled its code.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    /// <summary>Generates and uploads the task, then measures; with <c>browserOnly</c>, only the page in Chromium (a shorter run).</summary>
    public static async Task<int> RunAsync(int instances, int stacks, int coldRuns, int warmRuns, bool browserOnly = false)
    {
        string work = MeasuredServer.NewDataDirectory("page");
        string dataDirectory = Path.Combine(work, "data");
        try
        {
            var clock = Stopwatch.StartNew();
            var files = new byte[instances][];
            for (int i = 0; i < instances; i++)
            {
                (files[i], long raw, Profile profile) = AgentProfiles.AsUploaded(new LargeProfileGenerator().GenerateReplica(stacks, i));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"instance {i}: {files[i].Length / 1048576.0:F1} MiB gzip, {raw / 1048576.0:F1} MiB raw, {profile.StackCount:N0} distinct stacks, {profile.SampleCount:N0} samples"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated in {clock.Elapsed.TotalSeconds:F0} s"));
            string taskId;
            string service = "page-benchmark";
            string[] instanceIds = [.. Enumerable.Range(0, instances).Select(i => SkyWalkingIds.InstanceId(SkyWalkingIds.ServiceId(service), $"instance-{i}"))];
            using (MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory))
            {
                using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
                taskId = await graphql.CreateTaskAsync(SkyWalkingIds.ServiceId(service), instanceIds, "CPU", duration: 1);
                for (int i = 0; i < instances; i++)
                {
                    using var agent = new GoLikeAgent(server.GrpcAddress, service, $"instance-{i}");
                    await agent.RegisterAsync();
                    await agent.UploadAcceptedAsync((await agent.PollAsync())?.TaskId ?? throw new InvalidOperationException("no task"), files[i]);
                }

                await MeasuredServer.WaitForKeptViewAsync(dataDirectory);
            }

            object request = new { taskId, instanceIds = Array.Empty<string>() };
            object newPage = new { r = request, w = Width, z = Array.Empty<string>() };
            bool hasView = true;
            if (!browserOnly)
            {
                hasView = await MeasureAsync("new page (queryPprofFlameView + 300 top rows), nothing kept", dataDirectory, NewPage, newPage, coldRuns, warmRuns, zoomRequest: request, kept: false);
                await MeasureAsync("new page (queryPprofFlameView + 300 top rows), default view kept", dataDirectory, NewPage, newPage, coldRuns, warmRuns, zoomRequest: null, kept: true);
                await MeasureAsync("old page (queryPprofAnalyze + every top row), nothing kept", dataDirectory, OldPage, new { r = request }, coldRuns, warmRuns, zoomRequest: null, kept: false);
            }

            await BrowserAsync(dataDirectory, taskId, coldRuns, warmRuns, kept: false);
            await BrowserAsync(dataDirectory, taskId, coldRuns, warmRuns, kept: true);
            if (!hasView)
            {
                Console.WriteLine("this server has no queryPprofFlameView: only the old page was measured");
            }

            return 0;
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("FLAMEWRIGHT_BENCHMARK_KEEP") is null)
            {
                Directory.Delete(work, recursive: true);
            }
            else
            {
                Console.WriteLine($"kept {work}");
            }
        }
    }

    /// <summary>Cold runs in fresh processes, then warm runs (and zooms, for the new page) in the last one; false when the server refuses the query.</summary>
    private static async Task<bool> MeasureAsync(string name, string dataDirectory, string query, object variables, int coldRuns, int warmRuns, object? zoomRequest, bool kept)
    {
        var cold = new List<double>();
        var warm = new List<double>();
        var zoom = new List<double>();
        long coldBytes = 0, zoomBytes = 0;
        for (int run = 0; run < coldRuns; run++)
        {
            if (!kept)
            {
                await MeasuredServer.ForgetKeptViewsAsync(dataDirectory);
            }

            using MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory);
            await Task.Delay(Settle);
            using var graphql = new GraphQLClient(server.HttpAddress!, TimeSpan.FromMinutes(10));
            (byte[] body, TimeSpan elapsed) = await graphql.TimedPostAsync(query, variables);
            try
            {
                GraphQLClient.CheckNoErrors(body);
            }
            catch (InvalidOperationException refused)
            {
                Console.WriteLine($"{name}: {refused.Message}");
                return false;
            }

            cold.Add(elapsed.TotalMilliseconds);
            coldBytes = body.Length;
            if (run < coldRuns - 1)
            {
                continue;
            }

            for (int i = 0; i < warmRuns; i++)
            {
                (_, elapsed) = await graphql.TimedPostAsync(query, variables);
                warm.Add(elapsed.TotalMilliseconds);
            }

            if (zoomRequest is not null)
            {
                // Zoom into the widest frame three levels down, then into the widest below it, and so on.
                JsonNode view = GraphQLClient.Data(body)["queryPprofFlameView"]!;
                string[] path = WidestPath(view, 3);
                for (int i = 0; i < warmRuns; i++)
                {
                    (byte[] zoomed, TimeSpan took) = await graphql.TimedPostAsync(query, new { r = zoomRequest, w = Width, z = path });
                    zoom.Add(took.TotalMilliseconds);
                    zoomBytes = zoomed.Length;
                }
            }
        }

        string zoomPart = zoom.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $"; zoom median {Median.Of(zoom):F0} ms, answer {zoomBytes / 1024.0:F0} KiB") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: cold median {Median.Of(cold):F0} ms ({string.Join(", ", cold.Select(c => c.ToString("F0", CultureInfo.InvariantCulture)))}), warm median {Median.Of(warm):F0} ms (min {warm.Min():F0}, max {warm.Max():F0}), answer {coldBytes / 1024.0:F0} KiB{zoomPart}"));
        return true;
    }

    /// <summary>
    /// The page in Debian's Chromium, 1,400 pixels wide: from navigation to the root frame and the first top-table
    /// row on screen, in a fresh server process (cold) and after reloads (warm). The same selectors exist in the
    /// page before and after the view, so a build from before it is measured the same way.
    /// </summary>
    private static async Task BrowserAsync(string dataDirectory, string taskId, int coldRuns, int warmRuns, bool kept)
    {
        const string Chromium = "/usr/bin/chromium";
        if (!File.Exists(Chromium))
        {
            Console.WriteLine($"browser: {Chromium} is missing (bash .ci/setup installs it); not measured");
            return;
        }

        using Microsoft.Playwright.IPlaywright playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using Microsoft.Playwright.IBrowser browser = await playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        });
        var cold = new List<double>();
        var warm = new List<double>();
        var coldSteps = new List<double[]>();
        var warmSteps = new List<double[]>();
        for (int run = 0; run < coldRuns; run++)
        {
            if (!kept)
            {
                await MeasuredServer.ForgetKeptViewsAsync(dataDirectory);
            }

            using MeasuredServer server = await MeasuredServer.StartServerAsync(dataDirectory);
            await Task.Delay(Settle);
            Microsoft.Playwright.IPage page = await browser.NewPageAsync(new Microsoft.Playwright.BrowserNewPageOptions
            {
                ViewportSize = new Microsoft.Playwright.ViewportSize { Width = Width, Height = 900 },
            });
            page.SetDefaultTimeout(120_000);
            page.PageError += (_, error) => Console.WriteLine($"  page error: {error}");
            // With FLAMEWRIGHT_PAGE_TRACE=FILE, the last cold run's timeline goes to FILE.cold.json, and is left out of the figures.
            string? coldTrace = run == coldRuns - 1 && s_tracePath is not null ? s_tracePath + ".cold.json" : null;
            TimelineRecorder? coldRecorder = coldTrace is null ? null : await TimelineRecorder.StartAsync(page);
            var clock = Stopwatch.StartNew();
            await page.GotoAsync($"{server.HttpAddress}#/analysis/{Uri.EscapeDataString(taskId)}", new Microsoft.Playwright.PageGotoOptions { WaitUntil = Waiting });
            await ReadyAsync(page);
            if (coldRecorder is not null)
            {
                await coldRecorder.StopAsync(page, coldTrace!, "the last cold run");
            }
            else
            {
                cold.Add(clock.Elapsed.TotalMilliseconds);
                coldSteps.Add(await StepsAsync(page));
            }

            if (run == coldRuns - 1)
            {
                for (int i = 0; i < warmRuns; i++)
                {
                    // FLAMEWRIGHT_PAGE_TRACE=FILE: Chromium's own timeline of the last reload, for chrome://tracing or
                    // Perfetto (a trace slows the page, so that reload is left out of the figures).
                    string? trace = i == warmRuns - 1 ? s_tracePath : null;
                    TimelineRecorder? recorder = trace is null ? null : await TimelineRecorder.StartAsync(page);

                    clock.Restart();
                    await page.ReloadAsync(new Microsoft.Playwright.PageReloadOptions { WaitUntil = Waiting });
                    await ReadyAsync(page);
                    if (recorder is not null)
                    {
                        await recorder.StopAsync(page, trace!, "the last reload");
                        continue;
                    }

                    warm.Add(clock.Elapsed.TotalMilliseconds);
                    warmSteps.Add(await StepsAsync(page));
                    Console.WriteLine($"  reload {i + 1}: the server's phases (Server-Timing) {await ServerPhasesAsync(page)}");
                }

                // Opened again inside the page (the task's page, then back to the graph): no page load, one request.
                var again = new List<double>();
                for (int i = 0; i < warmRuns; i++)
                {
                    await page.EvaluateAsync($"() => {{ location.hash = '#/tasks/{Uri.EscapeDataString(taskId)}'; }}");
                    await page.Locator("#flame").WaitForAsync(new Microsoft.Playwright.LocatorWaitForOptions { State = Microsoft.Playwright.WaitForSelectorState.Detached });
                    int looks = await page.EvaluateAsync<int>("() => performance.getEntriesByName('flamewright:first-look').length");
                    double asked = await page.EvaluateAsync<double>($"() => {{ const t = performance.now(); location.hash = '#/analysis/{Uri.EscapeDataString(taskId)}'; return t; }}");
                    await page.WaitForFunctionAsync("n => performance.getEntriesByName('flamewright:first-look').length > n", looks);
                    again.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByName('flamewright:first-look').at(-1).startTime") - asked);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  opened again inside the page (task page, then the graph), on the page's clock: median {Median.Of(again):F0} ms (min {again.Min():F0}, max {again.Max():F0})"));
                if (await page.EvaluateAsync<bool>("() => !!window.flamewright"))
                {
                    await ZoomInThePageAsync(page, warmRuns);
                }

                int drawn = await page.EvaluateAsync<int>("() => window.flamewright ? window.flamewright.frames().length : document.querySelectorAll('.frame').length");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  browser: {drawn:N0} frames drawn"));
            }

            await page.CloseAsync();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"browser ({(kept ? "default view kept" : "nothing kept")}), page to root frame and top rows: cold median {Median.Of(cold):F0} ms ({string.Join(", ", cold.Select(c => c.ToString("F0", CultureInfo.InvariantCulture)))}), warm (reload) median {Median.Of(warm):F0} ms (min {warm.Min():F0}, max {warm.Max():F0})"));
        Console.WriteLine($"  on the page's clock (ms from navigation, medians), cold: {Steps(coldSteps)}");
        Console.WriteLine($"  on the page's clock (ms from navigation, medians), reload: {Steps(warmSteps)}");
    }

    /// <summary>
    /// Zooms in the page into the widest frame three levels down (a click where a person would click), then back to the
    /// root through the trail, <paramref name="runs"/> times; timed on the page's clock from the click to the new view on
    /// screen (the marks <c>flamewright:zoom</c> and <c>flamewright:view-drawn</c>, analysis.js).
    /// </summary>
    private static async Task ZoomInThePageAsync(Microsoft.Playwright.IPage page, int runs)
    {
        var down = new List<double>();
        var back = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            JsonNode frames = JsonNode.Parse(await page.EvaluateAsync<string>("() => JSON.stringify(window.flamewright.frames())"))!;
            JsonNode target = frames.AsArray().Where(f => (string)f!["kind"]! == "frame" && (double)f["y"]! == 3 * 18).MaxBy(f => (double)f!["width"]!)!;
            down.Add(await TimedViewAsync(page, () => page.Locator("#flame").ClickAsync(new Microsoft.Playwright.LocatorClickOptions
            {
                Position = new Microsoft.Playwright.Position { X = (float)((double)target["x"]! + Math.Min((double)target["width"]! / 2, 20)), Y = (float)((double)target["y"]! + 8) },
            }), "flamewright:zoom"));
            back.Add(await TimedViewAsync(page, () => page.Locator("#zoom-trail a").First.ClickAsync(), "flamewright:zoom"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  zoom in the page, click to new view on screen (page's clock): three levels down median {Median.Of(down):F0} ms (min {down.Min():F0}, max {down.Max():F0}), back to the root median {Median.Of(back):F0} ms"));
    }

    /// <summary>
    /// The time from the page's last <paramref name="startMark"/> (set by what <paramref name="act"/> does) to the next
    /// <c>flamewright:view-drawn</c> mark, on the page's clock.
    /// </summary>
    private static async Task<double> TimedViewAsync(Microsoft.Playwright.IPage page, Func<Task> act, string startMark)
    {
        int views = await page.EvaluateAsync<int>("() => performance.getEntriesByName('flamewright:view-drawn').length");
        await act();
        await page.WaitForFunctionAsync("n => performance.getEntriesByName('flamewright:view-drawn').length > n", views);
        return await page.EvaluateAsync<double>(
            "m => performance.getEntriesByName('flamewright:view-drawn').at(-1).startTime - performance.getEntriesByName(m).at(-1).startTime", startMark);
    }

    /// <summary>The steps of the page's own timeline, read through the Performance API.</summary>
    private static readonly string[] StepNames = ["document loaded", "style.css loaded", "firstlook.js loaded", "document parsed", "app.js loaded", "first look asked", "its first byte", "first look answered", "first look drawn", "of which the server ran it (Server-Timing)"];

    private static async Task<double[]> StepsAsync(Microsoft.Playwright.IPage page)
    {
        // The harness stops its clock when the graph is there; the page marks it a frame later, once painted.
        if (await page.EvaluateAsync<bool>("() => !!window.flamewright"))
        {
            await page.WaitForFunctionAsync("() => performance.getEntriesByName('flamewright:first-look').length > 0");
        }

        return await page.EvaluateAsync<double[]>("""
        () => {
          const nav = performance.getEntriesByType('navigation')[0];
          const resources = performance.getEntriesByType('resource');
          // Under /ui/VERSION/ since the page names its files by build; /ui/ before.
          const loaded = file => { const r = resources.find(r => r.name.endsWith('/' + file)); return r ? r.responseEnd : -1; };
          const app = resources.find(r => r.name.endsWith('/app.js'));
          const look = resources.find(r => r.name.endsWith('/graphql'));
          const drawn = performance.getEntriesByName('flamewright:first-look')[0];
          return [nav.responseEnd, loaded('style.css'), loaded('firstlook.js'), nav.domInteractive, app ? app.responseEnd : -1, look ? look.startTime : -1, look ? look.responseStart : -1, look ? look.responseEnd : -1, drawn ? drawn.startTime : -1,
            look && look.serverTiming && look.serverTiming.length ? look.serverTiming[0].duration : -1];
        }
        """);
    }

    /// <summary>The first look's <c>Server-Timing</c> entries, as the page received them.</summary>
    private static async Task<string> ServerPhasesAsync(Microsoft.Playwright.IPage page) => await page.EvaluateAsync<string>("""
        () => {
          const look = performance.getEntriesByType('resource').find(r => r.name.endsWith('/graphql'));
          return look ? look.serverTiming.map(t => `${t.name} ${t.duration.toFixed(1)}`).join(', ') : '';
        }
        """);

    private static string Steps(List<double[]> runs) => string.Join(", ", StepNames.Select((name, i) =>
        string.Create(CultureInfo.InvariantCulture, $"{name} {Median.Of(runs.Select(r => r[i])):F0}")));

    /// <summary>
    /// What the harness waits for after starting a navigation: only that the new document is committed, then the
    /// check below. Waiting for the load event, then for each selector in turn (FLAMEWRIGHT_PAGE_HARNESS=selectors,
    /// as until 2026-12-06), adds Playwright's round trips and in-page polling, which on this 2-core machine ran on the
    /// page's main thread beside the page's own work (benchmarks/README.md).
    /// </summary>
    /// <summary>FLAMEWRIGHT_PAGE_TRACE: where Chromium's timelines of the last reload and cold run go, when set.</summary>
    private static readonly string? s_tracePath = Environment.GetEnvironmentVariable("FLAMEWRIGHT_PAGE_TRACE");

    private static readonly bool s_selectorHarness = Environment.GetEnvironmentVariable("FLAMEWRIGHT_PAGE_HARNESS") == "selectors";

    private static Microsoft.Playwright.WaitUntilState Waiting => s_selectorHarness ? Microsoft.Playwright.WaitUntilState.Load : Microsoft.Playwright.WaitUntilState.Commit;

    /// <summary>The graph painted (the canvas of today's page, or the root's box of the DOM renderer before it) and a top row shown.</summary>
    private static async Task ReadyAsync(Microsoft.Playwright.IPage page)
    {
        if (s_selectorHarness)
        {
            await page.Locator("#flame canvas[data-drawn], .frame[data-id='0']").First.WaitForAsync();
            await page.Locator("#top tbody tr").First.WaitForAsync();
            return;
        }

        // One check per animation frame, in the page: both there.
        await page.WaitForFunctionAsync("() => !!document.querySelector('#flame canvas[data-drawn], .frame[data-id=\"0\"]') && !!document.querySelector('#top tbody tr')");
    }

    /// <summary>The names from the root's child down to the widest frame at <paramref name="depth"/>, following the widest child.</summary>
    private static string[] WidestPath(JsonNode view, int depth)
    {
        JsonArray frames = view["frames"]!.AsArray();
        var path = new List<string>();
        int current = 0;
        for (int level = 0; level < depth; level++)
        {
            int widest = -1;
            for (int i = 0; i < frames.Count; i++)
            {
                if ((int)frames[i]!["parent"]! == current && (widest < 0 || (long)frames[i]!["total"]! > (long)frames[widest]!["total"]!))
                {
                    widest = i;
                }
            }

            if (widest < 0)
            {
                break;
            }

            path.Add((string)view["names"]![(int)frames[widest]!["nameIndex"]!]!);
            current = widest;
        }

        return [.. path];
    }
}

/// <summary>
/// Chromium's own timeline of a page over the DevTools protocol (Tracing), written as a trace file that
/// chrome://tracing and Perfetto open: what the browser spent its main thread on, by task.
/// </summary>
internal sealed class TimelineRecorder
{
    private readonly Microsoft.Playwright.ICDPSession session;
    private readonly List<System.Text.Json.JsonElement> events = [];
    private readonly TaskCompletionSource complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly string[] Categories = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute", "loading", "toplevel", "disabled-by-default-v8.cpu_profiler"];

    private TimelineRecorder(Microsoft.Playwright.ICDPSession session) => this.session = session;

    public static async Task<TimelineRecorder> StartAsync(Microsoft.Playwright.IPage page)
    {
        var recorder = new TimelineRecorder(await page.Context.NewCDPSessionAsync(page));
        recorder.session.Event("Tracing.dataCollected").OnEvent += (_, data) =>
        {
            lock (recorder.events)
            {
                foreach (System.Text.Json.JsonElement e in data!.Value.GetProperty("value").EnumerateArray())
                {
                    recorder.events.Add(e.Clone());
                }
            }
        };
        recorder.session.Event("Tracing.tracingComplete").OnEvent += (_, _) => recorder.complete.TrySetResult();
        await recorder.session.SendAsync("Tracing.start", new Dictionary<string, object>
        {
            ["transferMode"] = "ReportEvents",
            ["traceConfig"] = new Dictionary<string, object>
            {
                ["includedCategories"] = Categories,
            },
        });
        return recorder;
    }

    /// <summary>Ends the recording a moment after the page is ready (so that the frame it paints is in it) and writes it.</summary>
    public async Task StopAsync(Microsoft.Playwright.IPage page, string path, string what)
    {
        await page.WaitForTimeoutAsync(300);
        await session.SendAsync("Tracing.end");
        await complete.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using (FileStream file = File.Create(path))
        {
            await System.Text.Json.JsonSerializer.SerializeAsync(file, new { traceEvents = events });
        }

        await session.DetachAsync();
        Console.WriteLine($"  {what}'s timeline: {path}");
    }
}
