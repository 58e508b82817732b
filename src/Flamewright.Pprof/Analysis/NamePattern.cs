using System.Text.RegularExpressions;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>One compiled pattern and what it answered for each string so far.</summary>
internal sealed class NamePattern
{
    private readonly string _option;
    private readonly Regex _regex;
    private readonly MatchClock _clock;
    private readonly Dictionary<string, bool> _answers = new(StringComparer.Ordinal);

    private NamePattern(string option, Regex regex, MatchClock clock)
    {
        _option = option;
        _regex = regex;
        _clock = clock;
    }

    public static NamePattern? Compile(string option, string? pattern, MatchClock clock) =>
        // As in pprof, an empty pattern is no pattern.
        string.IsNullOrEmpty(pattern) ? null : new NamePattern(option, FramePattern.Compile(option, pattern), clock);

    /// <summary>A pattern that may be empty, which then matches everything (a part of a comma-separated list, as Go reads one).</summary>
    public static NamePattern CompileAllowingEmpty(string option, string pattern, MatchClock clock) =>
        new(option, FramePattern.Compile(option, pattern), clock);

    public bool IsMatch(string text)
    {
        if (!_answers.TryGetValue(text, out bool answer))
        {
            long started = _clock.Start(_option);
            answer = FramePattern.IsMatch(_regex, _option, text);
            _clock.Stop(started);
            _answers.Add(text, answer);
        }

        return answer;
    }

    /// <summary>Per profile, the functions' and mappings' answers are looked up once each.</summary>
    public Matcher For(Profile profile)
    {
        ReadOnlySpan<Function> functions = profile.Functions;
        var functionMatches = new bool[functions.Length];
        for (int f = 0; f < functions.Length; f++)
        {
            functionMatches[f] = IsMatch(functions[f].Name) || IsMatch(functions[f].FileName);
        }

        ReadOnlySpan<Mapping> mappings = profile.Mappings;
        var mappingMatches = new bool[mappings.Length];
        for (int m = 0; m < mappings.Length; m++)
        {
            mappingMatches[m] = IsMatch(mappings[m].FileName);
        }

        return new Matcher(profile, functionMatches, mappingMatches);
    }
}

/// <summary>
/// The time the patterns spend matching, charged to <see cref="FlameOptions.MatchBudget"/>, and the analysis's
/// cancellation, both looked at before each new name.
/// </summary>
internal sealed class MatchClock(MatchBudget? budget, CancellationToken cancellation)
{
    /// <summary>Checks cancellation and the budget, and returns the time the match starts.</summary>
    public long Start(string option)
    {
        cancellation.ThrowIfCancellationRequested();
        if (budget is { IsSpent: true })
        {
            PprofFormatException.Throw(
                $"{option}: matching the regular expressions took more than {budget.Limit.TotalSeconds:0.#} s for this request; use a simpler pattern");
        }

        return System.Diagnostics.Stopwatch.GetTimestamp();
    }

    public void Stop(long started) => budget?.Charge(System.Diagnostics.Stopwatch.GetTimestamp() - started);
}

/// <summary>One pattern's answers for the functions and mappings of one profile.</summary>
internal readonly record struct Matcher(Profile Profile, bool[] Functions, bool[] Mappings)
{
    /// <summary>pprof's <c>Location.matchesName</c>.</summary>
    public bool Matches(Location location)
    {
        foreach (Line line in Profile.Lines.Slice(location.FirstLine, location.LineCount))
        {
            if (line.FunctionIndex >= 0 && Functions[line.FunctionIndex])
            {
                return true;
            }
        }

        return location.HasMapping && Mappings[location.MappingIndex];
    }
}
