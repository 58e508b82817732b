using System.Globalization;
using System.Xml.Linq;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;

namespace Flamewright.Pprof.Tests.Export;

/// <summary>
/// The SVG flame graph's structure: one frame per drawn node, as wide as its share of the root, names as text only,
/// and its viewer the embedded SvgFlameGraph.js, whole.
/// </summary>
public sealed class SvgFlameGraphTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact(Timeout = Spec.Timeout)]
    public Task Each_frame_is_as_wide_as_its_share_of_the_root_and_sits_under_its_caller() => Spec.Run(() =>
    {
        // main.main → main.handle → main.work (30 ms) and main.main → main.handle (20 ms).
        XDocument svg = Write(HostileProfiles.Ordinary());

        Dictionary<string, XElement> frames = Frames(svg);
        double root = Width(frames["root"]);
        Assert.Equal(root, Width(frames["main.main"]), 3);
        Assert.Equal(root, Width(frames["main.handle"]), 3);
        Assert.Equal(root * 3 / 5, Width(frames["main.work"]), 3);
        Assert.True(Y(frames["main.main"]) > Y(frames["root"]));
        Assert.True(Y(frames["main.handle"]) > Y(frames["main.main"]));
        Assert.True(Y(frames["main.work"]) > Y(frames["main.handle"]));
        Assert.Equal(X(frames["main.handle"]), X(frames["main.work"]), 3);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_frame_s_tooltip_gives_its_name_then_its_total_and_self_with_their_shares() => Spec.Run(() =>
    {
        XDocument svg = Write(HostileProfiles.Ordinary());

        string[] work = Title(Frames(svg)["main.work"]).Split('\n');

        Assert.Equal(["main.work", "Total: 30 ms (30,000,000 ns), 60.00% of root", "Self: 30 ms (30,000,000 ns), 60.00% of root"], work);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Names_with_markup_characters_are_shown_as_text_and_open_nothing() => Spec.Run(() =>
    {
        string[] names = ["<script>alert(1)</script>", "a & b \"quoted\" 'single'", "]]><g onload=\"x\">"];
        string text = WriteText(HostileProfiles.Ordinary(names));

        HostileProfiles.CheckSvgShowsNamesOnlyAsText(text, names);
        Assert.DoesNotContain("<script>alert", text, StringComparison.Ordinal);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_viewer_is_the_embedded_script_whole_called_with_the_graph_s_geometry() => Spec.Run(() =>
    {
        XDocument svg = Write(HostileProfiles.Ordinary());
        string script = svg.Descendants(Svg + "script").Single().Value.TrimStart('\n');
        string file = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "src", "Flamewright.Pprof", "Export", "SvgFlameGraph.js"));

        // The file's opening comment stays in the file; everything from the function on is in every SVG.
        string viewer = file[file.IndexOf("(function", StringComparison.Ordinal)..].TrimEnd('\n');
        Assert.StartsWith(viewer, script, StringComparison.Ordinal);
        // Called with one x, v and p per drawn frame, in document order.
        string call = script[viewer.Length..];
        int drawn = Frames(svg).Count;
        foreach (string list in new[] { "x:[", "v:[", "p:[" })
        {
            int start = call.IndexOf(list, StringComparison.Ordinal) + list.Length;
            Assert.Equal(drawn, call[start..call.IndexOf(']', start)].Split(',').Length);
        }
    });

    private static string WriteText(Model.Profile profile)
    {
        FlameTree tree = FlameTreeBuilder.Build([profile], new FlameOptions());
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        SvgFlameGraph.Write(tree, writer, "test");
        return writer.ToString();
    }

    private static XDocument Write(Model.Profile profile) => XDocument.Parse(WriteText(profile));

    /// <summary>Every drawn frame by the name its tooltip's first line gives.</summary>
    private static Dictionary<string, XElement> Frames(XDocument svg) =>
        svg.Descendants(Svg + "g").Single(g => (string?)g.Attribute("id") == "frames")
            .Elements(Svg + "g").ToDictionary(g => Title(g).Split('\n')[0]);

    private static string Title(XElement frame) => frame.Element(Svg + "title")!.Value;

    private static double Width(XElement frame) => Attribute(frame, "width");

    private static double X(XElement frame) => Attribute(frame, "x");

    private static double Y(XElement frame) => Attribute(frame, "y");

    private static double Attribute(XElement frame, string name) =>
        double.Parse((string)frame.Element(Svg + "rect")!.Attribute(name)!, CultureInfo.InvariantCulture);
}
