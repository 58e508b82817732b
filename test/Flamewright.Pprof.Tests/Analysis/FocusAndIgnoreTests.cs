using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Focus and ignore patterns on hand-built profiles, with the kept trees and tables worked out by hand.</summary>
public sealed class FocusAndIgnoreTests
{
    /// <summary>main;a;b 10, main;c 5, other;b 3 and 7 without locations: 25 in all.</summary>
    private static Profile ThreeStacks() => Stacks.Single(Stacks.Cpu)
        .Add("main;a;b", 10)
        .Add("main;c", 5)
        .Add("other;b", 3)
        .Add("", 7)
        .Build();

    private static FlameTree Tree(Profile profile, string? focus, string? ignore, FrameGranularity granularity = FrameGranularity.Function) =>
        FlameTreeBuilder.Build(profile, new FlameOptions { Focus = focus, Ignore = ignore, Granularity = granularity });

    private static TopTable Top(Profile profile, string? focus, string? ignore) =>
        TopTable.Build(profile, new FlameOptions { Focus = focus, Ignore = ignore });

    [Fact(Timeout = Spec.Timeout)]
    public Task Focus_keeps_the_whole_stacks_through_a_matching_frame_and_totals_only_them() => Spec.Run(() =>
    {
        Profile profile = ThreeStacks();

        FlameTree tree = Tree(profile, "^b$", null);
        TopTable top = Top(profile, "^b$", null);

        Assert.Equal(["root 13/0", "  main 10/0", "    a 10/0", "      b 10/10", "  other 3/0", "    b 3/3"], Stacks.Render(tree));
        Assert.Equal(["b 13 13", "a 0 10", "main 0 10", "other 0 3"], Stacks.Rows(top));
        Assert.Equal(13, top.Total);
        // Percentages stay of the whole profile, as pprof prints them without -relative_percentages.
        Assert.Equal(25, top.AbsoluteTotal);
        TreeInvariants.Hold(tree);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Ignore_drops_every_stack_with_a_matching_frame_anywhere_in_it() => Spec.Run(() =>
    {
        Profile profile = ThreeStacks();

        Assert.Equal(["root 8/0", "  main 5/0", "    c 5/5", "  other 3/0", "    b 3/3"], Stacks.Render(Tree(profile, null, "^a$")));
        Assert.Equal(["root 5/0", "  main 5/0", "    c 5/5"], Stacks.Render(Tree(profile, null, "^b$")));
        Assert.Equal(["c 5 5", "main 0 5"], Stacks.Rows(Top(profile, null, "^b$")));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Focus_and_ignore_together_keep_the_stacks_that_match_focus_and_not_ignore() => Spec.Run(() =>
    {
        Profile profile = ThreeStacks();

        Assert.Equal(["root 10/0", "  main 10/0", "    a 10/0", "      b 10/10"], Stacks.Render(Tree(profile, "^b$", "^other$")));
        // Ignore wins over focus on the same frame.
        Assert.Equal(["root 0/0"], Stacks.Render(Tree(profile, "^b$", "^b$")));
        Assert.Empty(Top(profile, "^b$", "^b$").Entries);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Empty_patterns_filter_nothing_and_samples_without_locations_are_kept_only_without_a_filter() => Spec.Run(() =>
    {
        Profile profile = ThreeStacks();

        Assert.Equal(Stacks.Render(Stacks.Tree(profile)), Stacks.Render(Tree(profile, "", "")));
        Assert.Equal(25, Tree(profile, "", "").Total);
        // pprof drops a sample without locations as soon as any filter is set: it has no frame to keep it.
        Assert.Equal(18, Tree(profile, null, "matches nothing").Total);
        Assert.Equal(18, Tree(profile, ".", null).Total);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Patterns_match_file_names_and_binary_paths_as_pprof_does_and_not_the_names_the_tree_shows() => Spec.Run(() =>
    {
        var builder = new ProfileBuilder([Stacks.Cpu]);
        int library = builder.AddMapping(new Mapping(0, 0x7000, 0x8000, 0, "/usr/lib/libfoo.so", "", false, false, false, false));
        int main = builder.AddLocation([new Line(builder.AddFunction("main.main", fileName: "/src/app/main.go"), 7, 0)]);
        int handle = builder.AddLocation([new Line(builder.AddFunction("pkg.Handle", fileName: "/src/pkg/handler.go"), 12, 0)]);
        int unsymbolized = builder.AddLocation([], library, 0x7100);
        builder.AddSample([handle, main], [10]);
        builder.AddSample([unsymbolized, main], [4]);
        Profile profile = builder.Build();

        Assert.Equal(["root 10/0", "  main.main 10/0", "    pkg.Handle 10/10"], Stacks.Render(Tree(profile, @"handler\.go$", null)));
        Assert.Equal(["root 10/0", "  main.main 10/0", "    pkg.Handle 10/10"], Stacks.Render(Tree(profile, null, "libfoo")));
        Assert.Equal(["root 4/0", "  main.main 4/0", "    [libfoo.so] 4/4"], Stacks.Render(Tree(profile, "libfoo", null)));
        // The bracketed name is only how the tree shows the binary: the pattern sees its path.
        Assert.Equal(0, Tree(profile, @"^\[libfoo", null).Total);
        // A line graph keeps the same samples: the pattern sees the function, not the "name file:line" shown.
        Assert.Equal(
            ["root 10/0", "  main.main /src/app/main.go:7 10/0", "    pkg.Handle /src/pkg/handler.go:12 10/10"],
            Stacks.Render(Tree(profile, @"^pkg\.Handle$", null, FrameGranularity.Line)));
        Assert.Equal(0, Tree(profile, "go:12", null, FrameGranularity.Line).Total);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_frame_inlined_into_a_location_keeps_or_drops_the_stack_like_any_other_frame() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.Single(Stacks.Cpu);
        int inlined = builder.Location(("inner", 30), ("outer", 10));
        int caller = builder.Location(("caller", 5));
        builder.AddSample([inlined, caller], [7]);
        builder.Add("caller;other", 2);
        Profile profile = builder.Build();

        Assert.Equal(["root 7/0", "  caller 7/0", "    outer 7/0", "      inner 7/7"], Stacks.Render(Tree(profile, "^inner$", null)));
        Assert.Equal(["root 2/0", "  caller 2/0", "    other 2/2"], Stacks.Render(Tree(profile, null, "^inner$")));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_invalid_pattern_is_refused_with_a_one_line_message_naming_the_option() => Spec.Run(() =>
    {
        Profile profile = ThreeStacks();

        var focus = Assert.Throws<PprofFormatException>(() => Tree(profile, "main(", null));
        var ignore = Assert.Throws<PprofFormatException>(() => Top(profile, null, "[z-a]"));
        var multiline = Assert.Throws<PprofFormatException>(() => Tree(profile, "a\n(", null));
        var diff = Assert.Throws<PprofFormatException>(() => FlameDiff.Build([profile], [profile], new FlameOptions { Ignore = "(" }));

        Assert.StartsWith("focus: invalid regular expression: ", focus.Message);
        Assert.Contains("main(", focus.Message);
        Assert.StartsWith("ignore: invalid regular expression: ", ignore.Message);
        Assert.StartsWith("ignore: invalid regular expression: ", diff.Message);
        Assert.All(new[] { focus, ignore, multiline, diff }, e => Assert.DoesNotMatch("[\r\n]", e.Message));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_pattern_that_backtracks_without_end_on_a_backtracking_engine_gets_its_answer_here() => Spec.Run(() =>
    {
        // ^(a|aa)+$ against 64 a's and a '!' takes Fibonacci(64) steps when backtracking: it was stopped by the
        // match timeout. Matched as RE2 matches it, the answer comes at once.
        Profile profile = Stacks.Single(Stacks.Cpu).Add("main;" + new string('a', 64) + "!", 1).Add("main;" + new string('a', 64), 2).Build();

        FlameTree kept = Tree(profile, "^(a|aa)+$", null);

        Assert.Equal(2, kept.Total);
    });
}
