using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// <see cref="FlameOptions.Focus"/> and <see cref="FlameOptions.Ignore"/> as <c>go tool pprof</c> applies
/// <c>-focus</c> and <c>-ignore</c> (<c>Profile.FilterSamplesByName</c> in github.com/google/pprof
/// <c>profile/filter.go</c>): a location matches a pattern when one of its lines' function name or file name
/// does, or its mapping's file does; a stack is kept when a location matches focus and none matches ignore.
/// Each pattern runs once per distinct string (a file name is shared by hundreds of functions, and every
/// instance of a merge repeats the same names), each location is judged once per profile, and each distinct
/// stack once. Patterns run in time linear in the name (<see cref="FramePattern"/>): a pattern like
/// <c>(.*a){5}!x</c>, which took half a second per name when backtracking, takes microseconds;
/// <see cref="FlameOptions.MatchBudget"/> bounds all the names of one request together.
/// </summary>
internal sealed class StackFilter
{
    private readonly NamePattern? _focus;
    private readonly NamePattern? _ignore;
    private GrowableArray<int> _locations = new(64);

    private StackFilter(NamePattern? focus, NamePattern? ignore)
    {
        _focus = focus;
        _ignore = ignore;
    }

    /// <summary>The filter of <paramref name="options"/>, or <c>null</c> when neither pattern is set.</summary>
    /// <exception cref="PprofFormatException">A pattern is not a valid regular expression.</exception>
    public static StackFilter? Create(FlameOptions options)
    {
        var clock = new MatchClock(options.MatchBudget, options.Cancellation);
        NamePattern? focus = NamePattern.Compile("focus", options.Focus, clock);
        NamePattern? ignore = NamePattern.Compile("ignore", options.Ignore, clock);
        return focus is null && ignore is null ? null : new StackFilter(focus, ignore);
    }

    /// <summary>
    /// Drops the stacks of <paramref name="profile"/> the filter does not keep: marks them unused and zeroes their
    /// value. A stack without locations is never kept, as in pprof, where it has no location to match.
    /// </summary>
    /// <returns>The sum of the kept stacks' values.</returns>
    public long Apply(Profile profile, long[] stackValues, bool[] stackUsed)
    {
        Verdict[] verdicts = JudgeLocations(profile);
        long kept = 0;
        for (int stack = 0; stack < stackUsed.Length; stack++)
        {
            if (!stackUsed[stack])
            {
                continue;
            }

            if (Keeps(profile, stack, verdicts))
            {
                kept += stackValues[stack];
            }
            else
            {
                stackUsed[stack] = false;
                stackValues[stack] = 0;
            }
        }

        return kept;
    }

    /// <summary>pprof's <c>focusedAndNotIgnored</c>: one focused location keeps the stack, one ignored drops it.</summary>
    private bool Keeps(Profile profile, int stack, Verdict[] verdicts)
    {
        _locations.Clear();
        profile.ReadStack(stack, ref _locations);
        bool focused = false;
        foreach (int location in _locations.AsSpan())
        {
            switch (verdicts[location])
            {
                case Verdict.Ignored:
                    return false;
                case Verdict.Focused:
                    focused = true;
                    break;
            }
        }

        return focused;
    }

    /// <summary>
    /// Every location's verdict as pprof gives it: ignored if it matches ignore, else focused if it matches focus
    /// (every location, when focus is not set).
    /// </summary>
    private Verdict[] JudgeLocations(Profile profile)
    {
        Matcher? focus = _focus?.For(profile), ignore = _ignore?.For(profile);
        var verdicts = new Verdict[profile.Locations.Length];
        for (int l = 0; l < verdicts.Length; l++)
        {
            Location location = profile.Locations[l];
            verdicts[l] = ignore is not null && ignore.Value.Matches(location) ? Verdict.Ignored
                : focus is null || focus.Value.Matches(location) ? Verdict.Focused
                : Verdict.Neither;
        }

        return verdicts;
    }

    private enum Verdict : byte
    {
        Neither,
        Focused,
        Ignored,
    }
}
