namespace Flamewright.Pprof.Tests.Support;

/// <summary>The cases the engine's theories run over: every committed profile, sample type and filtered oracle (<see cref="TestData"/>).</summary>
internal static class ProfileCases
{
    public static TheoryData<string, int> EverySampleTypeOfEveryProfile()
    {
        var data = new TheoryData<string, int>();
        foreach ((string name, int count) in TestData.AllProfiles())
        {
            for (int i = 0; i < count; i++)
            {
                data.Add(name, i);
            }
        }

        return data;
    }

    /// <summary>The oracles of <see cref="TestData.FilteredOracles"/> whose case filters by label (<c>-tagfocus</c>, <c>-tagroot</c>…) or, with <paramref name="byLabel"/> false, by frame only.</summary>
    public static TheoryData<string> EveryFilteredOracle(bool byLabel = false)
    {
        var data = new TheoryData<string>();
        foreach (string name in TestData.AllFilteredOracles().Where(n => n.Split('.')[2].StartsWith("tag", StringComparison.Ordinal) == byLabel))
        {
            data.Add(name);
        }

        return data;
    }

    public static TheoryData<string> EveryProfile()
    {
        var data = new TheoryData<string>();
        foreach ((string name, _) in TestData.AllProfiles())
        {
            data.Add(name);
        }

        return data;
    }
}
