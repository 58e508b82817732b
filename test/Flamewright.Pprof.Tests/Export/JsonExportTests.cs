using System.Text.Json;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Analysis;

namespace Flamewright.Pprof.Tests.Export;

/// <summary>The JSON exports (nested tree, SkyWalking element list, speedscope), parsed back with System.Text.Json.</summary>
public sealed class JsonExportTests
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 100_000 };

    /// <summary>root 30/6 → main 21/3 → {a 16/11 → b 5/5, c -2/-2, d 4/4}, other 3/3.</summary>
    private static FlameTree SmallTree() => Stacks.Tree(Stacks.Single(Stacks.InuseSpace)
        .Add("main;a", 11)
        .Add("other", 3)
        .Add("main;a;b", 5)
        .Add("main", 3)
        .Add("main;c", -2)
        .Add("main;d", 4)
        .Add("", 6)
        .Build());

    private static JsonDocument Parse(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return JsonDocument.Parse(stream.ToArray(), Deep);
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task SkyWalking_elements_are_pre_order_with_root_0_and_parents_before_children() => Spec.Run(() =>
    {
        FlameTree tree = SmallTree();
        using JsonDocument document = Parse(s => SkyWalkingTree.Write(tree, s));

        JsonElement[] elements = document.RootElement.GetProperty("elements").EnumerateArray().ToArray();
        string[] actual = elements.Select(e =>
            $"{e.GetProperty("id").GetString()} {e.GetProperty("parentId").GetString()} {e.GetProperty("codeSignature").GetString()} {e.GetProperty("total").GetInt64()} {e.GetProperty("self").GetInt64()}")
            .ToArray();

        Assert.Equal(["elements"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
        [
            "0 -1 root 30 6", "1 0 main 21 3", "2 1 a 16 11", "3 2 b 5 5", "4 1 c -2 -2", "5 1 d 4 4", "6 0 other 3 3",
        ], actual);
        Assert.All(elements, e => Assert.Equal(["id", "parentId", "codeSignature", "total", "self"], e.EnumerateObject().Select(p => p.Name)));
        for (int i = 1; i < elements.Length; i++)
        {
            int parent = int.Parse(elements[i].GetProperty("parentId").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(parent, 0, i - 1);
        }

        Assert.Equal(
            actual,
            SkyWalkingTree.Elements(tree).Select(e => $"{e.Id} {e.ParentId} {e.CodeSignature} {e.Total} {e.Self}"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Json_tree_parses_and_its_nested_children_equal_the_tree() => Spec.Run(() =>
    {
        FlameTree tree = SmallTree();
        using JsonDocument document = Parse(s => JsonTree.Write(tree, s));
        JsonElement top = document.RootElement;

        Assert.Equal("inuse_space", top.GetProperty("sampleType").GetProperty("type").GetString());
        Assert.Equal("bytes", top.GetProperty("sampleType").GetProperty("unit").GetString());
        Assert.Equal("function", top.GetProperty("granularity").GetString());
        Assert.Equal(30, top.GetProperty("total").GetInt64());
        Assert.Equal(
            ["root 30/6", "  main 21/3", "    a 16/11", "      b 5/5", "    c -2/-2", "    d 4/4", "  other 3/3"],
            RenderJson(top.GetProperty("root")));
        Assert.Equal(Stacks.Render(tree), RenderJson(top.GetProperty("root")));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Json_diff_lists_every_node_flat_in_pre_order_with_both_sides_values() => Spec.Run(() =>
    {
        Profile before = Stacks.Single(Stacks.InuseSpace).Add("main;a", 10).Add("main", 1).Build();
        Profile after = Stacks.Single(Stacks.InuseSpace).Add("main;a", 4).Add("main;b", 6).Build();
        FlameDiff diff = FlameDiff.Build([before], [after]);

        using JsonDocument document = Parse(s => JsonDiff.Write(diff, s));
        JsonElement top = document.RootElement;

        Assert.Equal(["sampleType", "granularity", "baseTotal", "targetTotal", "nodes"], top.EnumerateObject().Select(p => p.Name));
        Assert.Equal("inuse_space", top.GetProperty("sampleType").GetProperty("type").GetString());
        Assert.Equal("bytes", top.GetProperty("sampleType").GetProperty("unit").GetString());
        Assert.Equal("function", top.GetProperty("granularity").GetString());
        Assert.Equal(11, top.GetProperty("baseTotal").GetInt64());
        Assert.Equal(10, top.GetProperty("targetTotal").GetInt64());
        JsonElement[] nodes = top.GetProperty("nodes").EnumerateArray().ToArray();
        Assert.All(nodes, n => Assert.Equal(
            ["id", "parentId", "name", "baseTotal", "baseSelf", "targetTotal", "targetSelf"], n.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(
            ["0 -1 root 11 0 10 0", "1 0 main 11 1 10 0", "2 1 a 10 10 4 4", "3 1 b 0 0 6 6"],
            nodes.Select(n => string.Join(' ', n.EnumerateObject().Select(p => p.Value.ToString()))));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_5000_frame_deep_stack_builds_and_exports_without_stack_overflow() => Spec.Run(() =>
    {
        const int Depth = 5000;
        ProfileBuilder builder = Stacks.Single(Stacks.Samples);
        var leafFirst = new int[Depth];
        for (int i = 0; i < Depth; i++)
        {
            leafFirst[Depth - 1 - i] = builder.Location(($"f{i}", i));
        }

        builder.AddSample(leafFirst, [3]);
        FlameTree tree = Stacks.Tree(builder.Build());

        Assert.Equal(Depth + 1, tree.Count);
        Assert.Equal(Depth, tree.MaxDepth);
        using JsonDocument json = Parse(s => JsonTree.Write(tree, s));
        Assert.Equal(Stacks.Render(tree), RenderJson(json.RootElement.GetProperty("root")));
        using JsonDocument skywalking = Parse(s => SkyWalkingTree.Write(tree, s));
        Assert.Equal(Depth + 1, skywalking.RootElement.GetProperty("elements").GetArrayLength());
        using JsonDocument speedscope = Parse(s => Speedscope.Write(tree, s, "deep"));
        Assert.Equal(Depth, speedscope.RootElement.GetProperty("profiles")[0].GetProperty("samples")[0].GetArrayLength());
        IReadOnlyList<string> folded = FoldedStacks.Lines(tree);
        Assert.Single(folded);
        Assert.StartsWith("f0;f1;f2;", folded[0]);
        Assert.EndsWith(";f4998;f4999 3", folded[0]);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Speedscope_has_one_sampled_profile_weighted_by_positive_self_values() => Spec.Run(() =>
    {
        FlameTree tree = SmallTree();
        using JsonDocument document = Parse(s => Speedscope.Write(tree, s, "heap.pb.gz"));
        JsonElement top = document.RootElement;

        Assert.Equal("https://www.speedscope.app/file-format-schema.json", top.GetProperty("$schema").GetString());
        Assert.Equal(0, top.GetProperty("activeProfileIndex").GetInt32());
        string[] frames = top.GetProperty("shared").GetProperty("frames").EnumerateArray()
            .Select(f => f.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["main", "a", "b", "c", "d", "other"], frames);
        JsonElement profile = Assert.Single(top.GetProperty("profiles").EnumerateArray());
        Assert.Equal("sampled", profile.GetProperty("type").GetString());
        Assert.Equal("bytes", profile.GetProperty("unit").GetString());
        Assert.Equal("heap.pb.gz inuse_space/bytes", profile.GetProperty("name").GetString());
        string[] samples = profile.GetProperty("samples").EnumerateArray()
            .Select(s => string.Join(";", s.EnumerateArray().Select(f => frames[f.GetInt32()])))
            .ToArray();
        long[] weights = profile.GetProperty("weights").EnumerateArray().Select(w => w.GetInt64()).ToArray();

        // Positive self values only: c (-2) and the root's self (no frames) are left out.
        Assert.Equal(["main", "main;a", "main;a;b", "main;d", "other"], samples);
        Assert.Equal([3L, 11, 5, 4, 3], weights);
        Assert.Equal(0, profile.GetProperty("startValue").GetInt64());
        Assert.Equal(26, profile.GetProperty("endValue").GetInt64());
        Assert.Equal(Enumerable.Range(1, tree.Count - 1).Sum(n => Math.Max(tree.SelfOf(n), 0)), weights.Sum());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Speedscope_frames_are_valid_indexes_for_a_real_cpu_profile() => Spec.Run(() =>
    {
        FlameTree tree = FlameTreeBuilder.Build(ProfileReader.ReadFile(TestData.Profile("cpu")));
        using JsonDocument document = Parse(s => Speedscope.Write(tree, s, "cpu.pb.gz"));

        int frames = document.RootElement.GetProperty("shared").GetProperty("frames").GetArrayLength();
        JsonElement profile = document.RootElement.GetProperty("profiles")[0];
        JsonElement[] samples = profile.GetProperty("samples").EnumerateArray().ToArray();
        long[] weights = profile.GetProperty("weights").EnumerateArray().Select(w => w.GetInt64()).ToArray();

        Assert.Equal("nanoseconds", profile.GetProperty("unit").GetString());
        Assert.Equal(samples.Length, weights.Length);
        Assert.Equal(FoldedStacks.Lines(tree).Count, samples.Length);
        Assert.All(samples, s => Assert.All(s.EnumerateArray(), f => Assert.InRange(f.GetInt32(), 0, frames - 1)));
        Assert.All(weights, w => Assert.True(w > 0));
        Assert.Equal(tree.Total, weights.Sum());
        Assert.Equal(tree.Total, profile.GetProperty("endValue").GetInt64());
    });

    /// <summary>A JSON tree node rendered like <see cref="Stacks.Render"/>, walked without recursion.</summary>
    private static string[] RenderJson(JsonElement root)
    {
        var lines = new List<string>();
        var pending = new Stack<(JsonElement Node, int Depth)>();
        pending.Push((root, 0));
        while (pending.Count > 0)
        {
            (JsonElement node, int depth) = pending.Pop();
            Assert.Equal(["name", "total", "self", "children"], node.EnumerateObject().Select(p => p.Name));
            lines.Add($"{new string(' ', 2 * depth)}{node.GetProperty("name").GetString()} {node.GetProperty("total").GetInt64()}/{node.GetProperty("self").GetInt64()}");
            foreach (JsonElement child in node.GetProperty("children").EnumerateArray().Reverse())
            {
                pending.Push((child, depth + 1));
            }
        }

        return [.. lines];
    }
}
