using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Tests.Support;

/// <summary>A top table held against what <c>go tool pprof -top</c> printed for the same bytes and options.</summary>
internal static class TopAgreement
{
    /// <summary>
    /// pprof's 100% and every row's name, flat and cum; with <paramref name="shown"/>, the total of the kept samples
    /// too. <paramref name="asPprofNames"/> renames our rows where pprof names them otherwise (a label split's frames).
    /// </summary>
    public static void Holds(PprofOracle.Top expected, TopTable actual, bool shown = false, Func<string, string>? asPprofNames = null)
    {
        Assert.Equal(expected.Total, actual.AbsoluteTotal);
        if (shown)
        {
            Assert.Equal(expected.Shown, actual.Total);
        }

        var ours = actual.Entries.ToDictionary(e => asPprofNames is null ? e.Name : asPprofNames(e.Name), e => (e.Flat, e.Cum), StringComparer.Ordinal);
        Assert.Equal(expected.Functions.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, (long flat, long cum)) in expected.Functions)
        {
            Assert.True(ours[name] == (flat, cum), $"{name}: pprof flat={flat} cum={cum}, ours flat={ours[name].Flat} cum={ours[name].Cum}");
        }
    }
}
