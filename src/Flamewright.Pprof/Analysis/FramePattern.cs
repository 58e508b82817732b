using System.Text.RegularExpressions;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// The regular expressions people give to select frames (focus, ignore, a flame graph search), compiled one way:
/// culture invariant and on .NET's non-backtracking engine, so that they run in time linear in the name, as Go's RE2
/// does, whatever the pattern. Constructs RE2 lacks (backreferences, lookaround, atomic groups) are refused, as
/// <c>go tool pprof</c> refuses them.
/// </summary>
public static class FramePattern
{
    /// <summary>How long one match against one name may take: a last bound, for a pattern and a name of megabytes.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The compiled <paramref name="pattern"/>; <paramref name="option"/> says what it is for (<c>focus</c>, <c>search</c>…) in errors.</summary>
    /// <exception cref="PprofFormatException">The pattern is not valid, or uses a construct RE2 lacks; one line.</exception>
    public static Regex Compile(string option, string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            return PprofFormatException.Throw<Regex>($"{option}: invalid regular expression: {OneLine(e.Message)}");
        }
        catch (NotSupportedException e)
        {
            return PprofFormatException.Throw<Regex>(
                $"{option}: this regular expression is not supported (Go's regular expressions have no backreferences, lookaround or atomic groups): {OneLine(e.Message)}");
        }
    }

    /// <summary>Whether <paramref name="regex"/> matches <paramref name="name"/>; a match past <see cref="MatchTimeout"/> is one line.</summary>
    /// <exception cref="PprofFormatException">The match took longer than <see cref="MatchTimeout"/>.</exception>
    public static bool IsMatch(Regex regex, string option, string name)
    {
        try
        {
            return regex.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            return PprofFormatException.Throw<bool>($"{option}: the regular expression took more than {MatchTimeout.TotalSeconds:0.#} s to match one name");
        }
    }

    /// <summary>A pattern, or the text it was given, may hold line breaks: the exception's message may not.</summary>
    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
