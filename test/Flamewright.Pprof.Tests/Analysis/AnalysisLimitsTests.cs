using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// A few bytes of profile can name a location with thousands of inlined lines and repeat it: analysis refuses
/// to expand such input without bound, with a one-line error that names the limit.
/// </summary>
public sealed class AnalysisLimitsTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_stack_that_inlines_its_way_past_the_frame_limit_is_refused_though_its_profile_is_small() => Spec.Run(() =>
    {
        var builder = new ProfileBuilder([new ValueType("samples", "count")]);
        var lines = new Line[5_000];
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = new Line(builder.AddFunction($"main.inlined{i}"), i + 1, 0);
        }

        int location = builder.AddLocation(lines);
        int[] stack = Enumerable.Repeat(location, 20).ToArray(); // 100,000 frames
        builder.AddSample(stack, [1]);
        byte[] bytes = ProfileWriter.Encode(builder.Build());
        Profile profile = ProfileReader.Read(bytes);

        var tree = Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build(profile));
        var top = Assert.Throws<PprofFormatException>(() => TopTable.Build(profile));

        Assert.True(bytes.Length < 200_000, $"the crafted profile is {bytes.Length} bytes");
        Assert.Equal($"stack 0 of a profile expands to more than {FlameOptions.DefaultMaxStackFrames} frames (MaxStackFrames)", tree.Message);
        Assert.Equal(tree.Message, top.Message);
        Assert.Equal(100_001, FlameTreeBuilder.Build(profile, new FlameOptions { MaxStackFrames = 100_000 }).Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_tree_that_would_outgrow_the_node_limit_is_refused_and_one_within_it_is_built() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));
        int nodes = FlameTreeBuilder.Build(profile).Count;

        var refused = Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build(profile, new FlameOptions { MaxNodes = nodes - 1 }));

        Assert.Equal($"the flame tree would have more than {nodes - 1} nodes (MaxNodes)", refused.Message);
        Assert.Equal(nodes, FlameTreeBuilder.Build(profile, new FlameOptions { MaxNodes = nodes }).Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Analysis_stops_once_all_stacks_together_pass_the_total_frame_limit() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));

        var refused = Assert.Throws<PprofFormatException>(() => TopTable.Build(profile, new FlameOptions { MaxFrames = 100 }));

        Assert.Equal("the stacks expand to more than 100 frames in all (MaxFrames)", refused.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Limits_below_one_are_a_programming_error_not_a_profile_error() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.ReadFile(TestData.Profile("cpu"));

        Assert.Throws<ArgumentOutOfRangeException>(() => FlameTreeBuilder.Build(profile, new FlameOptions { MaxNodes = 0 }));
    });
}
