using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Web.Tests.Support;

namespace Flamewright.Web.Tests;

/// <summary>The SVG flame graph's own viewer (Export/SvgFlameGraph.js) in Chromium: its search marks the matching frames and says their share.</summary>
public sealed class SvgSearchTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Search_marks_the_matching_frames_and_counts_nested_matches_once() => Spec.Run(async () =>
    {
        // main.main → main.handle → main.work (30 ms) and main.main → main.handle (20 ms).
        FlameTree tree = FlameTreeBuilder.Build([HostileProfiles.Ordinary()], new FlameOptions());
        using var svg = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        SvgFlameGraph.Write(tree, svg, "search");
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        // A page of its own: the server's pages allow no inline script, and the SVG's viewer is one.
        await browser.Page.GotoAsync("about:blank");
        await browser.Page.SetContentAsync(svg.ToString());
        string answer = "";
        // Answered without waiting here: an event handler must not be async void (a failure would go unseen).
        browser.Page.Dialog += (_, dialog) => _ = dialog.AcceptAsync(answer);

        async Task<string> SearchAsync(string term)
        {
            answer = term;
            await browser.Page.EvaluateAsync("() => { document.getElementById('matched').textContent = ''; }");
            await browser.Page.Locator("#search").ClickAsync();
            await browser.Page.WaitForFunctionAsync("() => document.getElementById('matched').textContent !== ''");
            return await browser.Page.Locator("#matched").TextContentAsync() ?? "";
        }

        string work = await SearchAsync("work");
        // Every frame matches "main." but the share counts main.main's subtree once: all of it.
        string all = await SearchAsync(@"main\.");
        // Not a valid regular expression: searched as plain text.
        string plain = await SearchAsync("handle(");

        Assert.Equal("Matched: 60.00% (1 frames)", work);
        Assert.Equal("Matched: 100.00% (3 frames)", all);
        Assert.Equal("Matched: 0.00% (0 frames)", plain);
    });
}
