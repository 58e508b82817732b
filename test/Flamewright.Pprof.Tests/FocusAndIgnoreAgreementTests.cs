using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests;

/// <summary>
/// <see cref="FlameOptions.Focus"/> and <see cref="FlameOptions.Ignore"/> keep the samples <c>go tool pprof
/// -focus</c>/<c>-ignore</c> keep: for each case of testdata/regenerate.sh (an oracle in
/// testdata/profiles/filtered/, whose "Active filters" lines give the patterns), every function's flat and cum,
/// the total of the kept samples and pprof's 100% equal what pprof printed.
/// </summary>
public sealed class FocusAndIgnoreAgreementTests
{
    public static TheoryData<string> Cases => ProfileCases.EveryFilteredOracle();

    private sealed record Case(string Profile, FlameOptions Options, PprofOracle.Top Expected);

    /// <summary><c>cpu.1.focus-inlined-function.top.txt</c>: profile cpu, sample index 1, patterns from the file.</summary>
    private static Case Read(string oracle)
    {
        string[] parts = oracle.Split('.');
        PprofOracle.Top expected = PprofOracle.ReadTopFile(Path.Combine(TestData.FilteredOracles, oracle));
        string? Pattern(string option) =>
            expected.ActiveFilters.SingleOrDefault(f => f.StartsWith(option + "=", StringComparison.Ordinal))?[(option.Length + 1)..];

        var options = new FlameOptions { SampleType = parts[1], Focus = Pattern("focus"), Ignore = Pattern("ignore") };
        Assert.True(options.Focus is not null || options.Ignore is not null, oracle + " has no active focus or ignore");
        Assert.All(expected.ActiveFilters, f => Assert.Matches("^(focus|ignore)=", f));
        return new Case(parts[0], options, expected);
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task Testdata_has_oracles_for_focus_ignore_both_file_names_binary_paths_and_negative_values() => Spec.Run(() =>
    {
        Assert.Superset(
            new HashSet<string>
            {
                "cpu.1.focus-inlined-function.top.txt", "cpu.1.ignore-by-file-name.top.txt", "cpu.1.focus-by-binary-path.top.txt",
                "cpu.0.focus-and-ignore.top.txt", "heap.1.focus-and-ignore.top.txt", "diff.3.focus-negative-values.top.txt",
                "goroutine.0.focus-truncated-recursion.top.txt", "threadcreate.0.ignore-matching-nothing.top.txt",
            },
            TestData.AllFilteredOracles().Where(n => !n.Split('.')[2].StartsWith("tag", StringComparison.Ordinal)).ToHashSet());
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task Every_functions_flat_and_cum_and_both_totals_equal_go_tool_pprof_top_with_the_same_filters(string oracle) => Spec.Run(() =>
    {
        Case c = Read(oracle);

        TopTable actual = TopTable.Build(ProfileReader.ReadFile(TestData.Profile(c.Profile)), c.Options);

        TopAgreement.Holds(c.Expected, actual, shown: true);
    });

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Cases))]
    public Task The_flame_tree_of_the_kept_samples_totals_what_pprof_shows_at_either_granularity(string oracle) => Spec.Run(() =>
    {
        Case c = Read(oracle);
        Profile profile = ProfileReader.ReadFile(TestData.Profile(c.Profile));

        FlameTree byFunction = FlameTreeBuilder.Build(profile, c.Options);
        FlameTree byLine = FlameTreeBuilder.Build(profile, c.Options with { Granularity = FrameGranularity.Line });

        Assert.Equal(c.Expected.Shown, byFunction.Total);
        Assert.Equal(c.Expected.Shown, byLine.Total);
        TreeInvariants.Hold(byFunction);
        // Every function pprof lists is in the tree, and the tree has no other.
        Assert.Equal(
            c.Expected.Functions.Keys.Order(StringComparer.Ordinal),
            Enumerable.Range(1, byFunction.Count - 1).Select(byFunction.NameOf).Distinct().Order(StringComparer.Ordinal));
    });
}
