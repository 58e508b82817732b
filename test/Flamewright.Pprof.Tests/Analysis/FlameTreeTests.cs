using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Flame trees and top tables of hand-built profiles, compared with trees worked out by hand.</summary>
public sealed class FlameTreeTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Inlined_frames_of_one_location_become_a_chain_from_the_outer_function_to_the_innermost() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.CpuBuilder();
        int inlined = builder.Location(("inner", 30), ("middle", 20), ("outer", 10));
        int caller = builder.Location(("caller", 5));
        builder.AddSample([inlined, caller], [1, 7]);
        Profile profile = builder.Build();

        FlameTree tree = Stacks.Tree(profile);

        Assert.Equal(
            ["root 7/0", "  caller 7/0", "    outer 7/0", "      middle 7/0", "        inner 7/7"],
            Stacks.Render(tree));
        Assert.Equal(["inner 7 7", "caller 0 7", "middle 0 7", "outer 0 7"], Stacks.Rows(Stacks.Top(profile)));
        Assert.Equal(
            ["root 7/0", "  caller:5 7/0", "    outer:10 7/0", "      middle:20 7/0", "        inner:30 7/7"],
            Stacks.Render(Stacks.Tree(profile, granularity: FrameGranularity.Line)));
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Weights_are_the_values_of_the_chosen_sample_type_by_name_or_index_not_record_counts() => Spec.Run(() =>
    {
        // main;a has two records worth 1 sample / 10ns each, main;b one record worth 3 samples / 50ns.
        Profile profile = Stacks.CpuBuilder()
            .Add("main;a", 1, 10)
            .Add("main;a", 1, 10)
            .Add("main;b", 3, 50)
            .Build();

        string[] byCpu = ["root 70/0", "  main 70/0", "    a 20/20", "    b 50/50"];
        string[] bySamples = ["root 5/0", "  main 5/0", "    a 2/2", "    b 3/3"];
        Assert.Equal(byCpu, Stacks.Render(Stacks.Tree(profile, "cpu")));
        Assert.Equal(byCpu, Stacks.Render(Stacks.Tree(profile, "1")));
        Assert.Equal(bySamples, Stacks.Render(Stacks.Tree(profile, "samples")));
        Assert.Equal(bySamples, Stacks.Render(Stacks.Tree(profile, "0")));
        Assert.Equal(["b 50 50", "a 20 20", "main 0 70"], Stacks.Rows(Stacks.Top(profile, "cpu")));
        Assert.Equal(["b 3 3", "a 2 2", "main 0 5"], Stacks.Rows(Stacks.Top(profile, "0")));
        Assert.Equal(Stacks.Cpu, Stacks.Tree(profile, "1").SampleType);
        Assert.Equal(Stacks.Samples, Stacks.Top(profile, "samples").SampleType);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_default_sample_type_is_default_sample_type_when_set_else_the_last() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.CpuBuilder().Add("main", 2, 40);
        Profile noDefault = builder.Build();
        builder.DefaultSampleType = "samples";
        Profile samplesDefault = builder.Build();
        builder.DefaultSampleType = "no_such_type";
        Profile unknownDefault = builder.Build();

        Assert.Equal(1, noDefault.DefaultSampleTypeIndex);
        Assert.Equal(40, Stacks.Tree(noDefault).Total);
        Assert.Equal(40, Stacks.Top(noDefault).Total);
        Assert.Equal(0, samplesDefault.DefaultSampleTypeIndex);
        Assert.Equal(2, Stacks.Tree(samplesDefault).Total);
        Assert.Equal(Stacks.Samples, Stacks.Top(samplesDefault).SampleType);
        Assert.Equal(1, unknownDefault.DefaultSampleTypeIndex);
        Assert.Equal(40, Stacks.Tree(unknownDefault, "").Total);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_unknown_sample_type_is_refused_with_the_available_ones_listed() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder().Add("main", 1, 10).Build();

        var byName = Assert.Throws<PprofFormatException>(() => Stacks.Tree(profile, "alloc_space"));
        var byIndex = Assert.Throws<PprofFormatException>(() => Stacks.Top(profile, "2"));
        var negative = Assert.Throws<PprofFormatException>(() => Stacks.Top(profile, "-1"));

        Assert.Equal("sample type 'alloc_space' not found: it has 0=samples, 1=cpu", byName.Message);
        Assert.Equal("sample type '2' not found: it has 0=samples, 1=cpu", byIndex.Message);
        Assert.Equal("sample type '-1' not found: it has 0=samples, 1=cpu", negative.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_sample_without_locations_counts_as_root_self_and_in_the_total() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder()
            .Add("", 1, 5)
            .Add("main;a", 1, 10)
            .Add("", 1, 2)
            .Build();

        FlameTree tree = Stacks.Tree(profile);
        TopTable top = Stacks.Top(profile);

        Assert.Equal(["root 17/7", "  main 10/0", "    a 10/10"], Stacks.Render(tree));
        Assert.Equal(17, top.Total);
        Assert.Equal(17, top.AbsoluteTotal);
        Assert.Equal(["a 10 10", "main 0 10"], Stacks.Rows(top));
        Assert.Equal(["main;a 10"], FoldedStacks.Lines(tree));
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Negative_values_of_a_diff_profile_give_signed_totals_and_percentages_of_the_absolute_total() => Spec.Run(() =>
    {
        Profile profile = Stacks.Single(Stacks.InuseSpace)
            .Add("main;a", 100)
            .Add("main;b", -30)
            .Add("main;b;c", -20)
            .Build();

        FlameTree tree = Stacks.Tree(profile);
        TopTable top = Stacks.Top(profile);

        Assert.Equal(["root 50/0", "  main 50/0", "    a 100/100", "    b -50/-30", "      c -20/-20"], Stacks.Render(tree));
        Assert.Equal(50, top.Total);
        Assert.Equal(150, top.AbsoluteTotal);
        Assert.Equal(["a 100 100", "b -30 -50", "c -20 -20", "main 0 50"], Stacks.Rows(top));
        Assert.Equal(-20.0, top.Percent(-30), 12);
        Assert.Equal(100.0 * -50 / 150, top.Percent(top.Entries[1].Cum), 12);
        Assert.Equal(100.0 * 100 / 150, top.Percent(100), 12);
        Assert.Equal(["main;a 100", "main;b -30", "main;b;c -20"], FoldedStacks.Lines(tree));
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Recursion_counts_a_function_once_per_stack_in_cum() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder()
            .Add("main;f;g;f;g", 1, 10)
            .Add("main;f", 1, 5)
            .Add("main;g;g;g", 1, 3)
            .Build();

        FlameTree tree = Stacks.Tree(profile);

        Assert.Equal(
        [
            "root 18/0", "  main 18/0", "    f 15/5", "      g 10/0", "        f 10/0", "          g 10/10",
            "    g 3/0", "      g 3/0", "        g 3/3",
        ], Stacks.Render(tree));
        Assert.Equal(["g 13 13", "f 5 15", "main 0 18"], Stacks.Rows(Stacks.Top(profile)));
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Line_granularity_names_frames_name_colon_line_and_function_granularity_merges_the_lines() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.CpuBuilder();
        int main = builder.Location(("main", 5));
        int f10 = builder.Location(("f", 10));
        int f20 = builder.Location(("f", 20));
        int mainOther = builder.Location(("main", 6));
        builder.AddSample([f10, main], [1, 3]);
        builder.AddSample([f20, main], [1, 4]);
        builder.AddSample([f20, mainOther], [1, 2]);
        Profile profile = builder.Build();

        FlameTree byFunction = Stacks.Tree(profile, granularity: FrameGranularity.Function);
        FlameTree byLine = Stacks.Tree(profile, granularity: FrameGranularity.Line);

        Assert.Equal(["root 9/0", "  main 9/0", "    f 9/9"], Stacks.Render(byFunction));
        Assert.Equal(
            ["root 9/0", "  main:5 7/0", "    f:10 3/3", "    f:20 4/4", "  main:6 2/0", "    f:20 2/2"],
            Stacks.Render(byLine));
        Assert.Equal(FrameGranularity.Line, byLine.Granularity);
        Assert.Equal(FrameGranularity.Function, byFunction.Granularity);
        Assert.Equal(["f 9 9", "main 0 9"], Stacks.Rows(Stacks.Top(profile)));
        Assert.Equal(["f:20 6 6", "f:10 3 3", "main:5 0 7", "main:6 0 2"], Stacks.Rows(Stacks.Top(profile, granularity: FrameGranularity.Line)));
        TreeInvariants.Hold(byLine);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Unsymbolized_locations_are_named_after_the_mapping_file_or_unknown() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.CpuBuilder();
        int libfoo = builder.AddMapping(new Mapping(0, 0x1000, 0x2000, 0, "/usr/lib/x86_64/libfoo.so", "", false, false, false, false));
        int anonymous = builder.AddMapping(new Mapping(0, 0x3000, 0x4000, 0, "", "", false, false, false, false));
        int main = builder.Location(("main", 1));
        int inLibfoo = builder.AddLocation([], libfoo, 0x1234);
        int inAnonymous = builder.AddLocation([], anonymous, 0x3456);
        int noMapping = builder.AddLocation([], -1, 0x5678);
        int nameless = builder.AddLocation([new Line(builder.AddFunction(""), 7, 0)], libfoo, 0x1300);
        builder.AddSample([inLibfoo, main], [1, 1]);
        builder.AddSample([inAnonymous, main], [1, 2]);
        builder.AddSample([noMapping, main], [1, 4]);
        builder.AddSample([nameless, main], [1, 8]);
        Profile profile = builder.Build();

        Assert.Equal(["root 15/0", "  main 15/0", "    <unknown> 6/6", "    [libfoo.so] 9/9"], Stacks.Render(Stacks.Tree(profile)));
        Assert.Equal(
            ["root 15/0", "  main:1 15/0", "    <unknown> 6/6", "    [libfoo.so] 9/9"],
            Stacks.Render(Stacks.Tree(profile, granularity: FrameGranularity.Line)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Samples_worth_zero_at_the_chosen_index_create_no_nodes_and_no_top_rows() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder()
            .Add("main;live", 1, 50)
            .Add("main;freed;deeper", 4, 0)
            .Add("other;idle", 0, 0)
            .Build();

        Assert.Equal(["root 50/0", "  main 50/0", "    live 50/50"], Stacks.Render(Stacks.Tree(profile, "cpu")));
        Assert.Equal(["live 50 50", "main 0 50"], Stacks.Rows(Stacks.Top(profile, "cpu")));
        Assert.Equal(
            ["root 5/0", "  main 5/0", "    freed 4/0", "      deeper 4/4", "    live 1/1"],
            Stacks.Render(Stacks.Tree(profile, "samples")));
        Assert.Equal(["deeper 4 4", "live 1 1", "freed 0 4", "main 0 5"], Stacks.Rows(Stacks.Top(profile, "samples")));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Siblings_are_sorted_by_ordinal_name_and_numbered_in_pre_order() => Spec.Run(() =>
    {
        Profile profile = Stacks.CpuBuilder()
            .Add("main;zeta", 1, 1)
            .Add("other", 1, 2)
            .Add("main;beta;x", 1, 4)
            .Add("main;Alpha", 1, 8)
            .Add("main;beta", 1, 16)
            .Build();

        FlameTree tree = Stacks.Tree(profile);

        Assert.Equal(
            ["root 31/0", "  main 29/0", "    Alpha 8/8", "    beta 20/16", "      x 4/4", "    zeta 1/1", "  other 2/2"],
            Stacks.Render(tree));
        Assert.Equal([-1, 0, 1, 1, 3, 1, 0], Enumerable.Range(0, tree.Count).Select(tree.ParentOf));
        Assert.Equal([7, 6, 3, 5, 5, 6, 7], Enumerable.Range(0, tree.Count).Select(tree.SubtreeEnd));
        Assert.Equal([0, 1, 2, 2, 3, 2, 1], Enumerable.Range(0, tree.Count).Select(tree.DepthOf));
        Assert.Equal(3, tree.MaxDepth);
        Assert.Equal(["main", "beta", "x"], tree.PathOf(4));
        Assert.Equal(["Alpha", "beta", "zeta"], tree.ChildrenOf(1).Select(n => n.Name));
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Building_twice_or_from_samples_in_another_order_gives_identical_output() => Spec.Run(() =>
    {
        static Profile Make(bool reversed)
        {
            (string Stack, long Value)[] samples =
                [("main;b;c", 3), ("main;a", 5), ("x;y", 7), ("main;b", 11), ("main;a;d", 13), ("", 17)];
            ProfileBuilder builder = Stacks.CpuBuilder();
            foreach ((string stack, long value) in reversed ? samples.Reverse() : samples)
            {
                builder.Add(stack, 1, value);
            }

            return builder.Build();
        }

        static string Outputs(Profile profile)
        {
            FlameTree tree = Stacks.Tree(profile);
            using var json = new MemoryStream();
            JsonTree.Write(tree, json);
            using var skywalking = new MemoryStream();
            SkyWalkingTree.Write(tree, skywalking);
            using var top = new StringWriter();
            TopText.Write(Stacks.Top(profile), top);
            return string.Join("\n---\n",
                string.Join("\n", Stacks.Render(tree)),
                string.Join("\n", FoldedStacks.Lines(tree)),
                System.Text.Encoding.UTF8.GetString(json.ToArray()),
                System.Text.Encoding.UTF8.GetString(skywalking.ToArray()),
                top.ToString());
        }

        string first = Outputs(Make(reversed: false));
        Assert.Equal(first, Outputs(Make(reversed: false)));
        Assert.Equal(first, Outputs(Make(reversed: true)));
        Assert.Equal(
            ["root 56/17", "  main 32/0", "    a 18/5", "      d 13/13", "    b 14/11", "      c 3/3", "  x 7/0", "    y 7/7"],
            Stacks.Render(Stacks.Tree(Make(reversed: true))));
    });
}
