using System.Globalization;
using System.Text.RegularExpressions;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// <see cref="FlameOptions.TagFocus"/> and <see cref="FlameOptions.TagIgnore"/> as <c>go tool pprof</c> applies
/// <c>-tagfocus</c> and <c>-tagignore</c> (<c>compileTagFilter</c> and <c>Profile.FilterSamplesByTag</c>): a sample is
/// kept when it matches the focus, if one is set, and does not match the ignore, if one is set. The rules of a
/// condition are in docs/analyze.md, "Label filters".
/// </summary>
internal sealed partial class TagFilter
{
    private readonly Condition? _focus;
    private readonly Condition? _ignore;

    private TagFilter(Condition? focus, Condition? ignore)
    {
        _focus = focus;
        _ignore = ignore;
    }

    /// <summary>The filter of <paramref name="options"/> for these profiles, or <c>null</c> when neither condition is set.</summary>
    /// <exception cref="PprofFormatException">A condition's regular expression or number is not valid; one line.</exception>
    public static TagFilter? Create(FlameOptions options, IReadOnlyList<Profile> profiles)
    {
        if (string.IsNullOrEmpty(options.TagFocus) && string.IsNullOrEmpty(options.TagIgnore))
        {
            return null;
        }

        var clock = new MatchClock(options.MatchBudget, options.Cancellation);
        Dictionary<string, string> units = LabelUnits.Of(profiles);
        return new TagFilter(Condition.Parse("tagfocus", options.TagFocus, units, clock), Condition.Parse("tagignore", options.TagIgnore, units, clock));
    }

    /// <summary>Whether a sample with these labels is kept.</summary>
    public bool Keeps(ReadOnlySpan<Label> labels) =>
        (_focus is null || _focus.Matches(labels)) && (_ignore is null || !_ignore.Matches(labels));

    /// <summary>A number, with a unit or not, as pprof finds them in a range: <c>64kb</c>, <c>-3</c>, <c>10ms</c>.</summary>
    [GeneratedRegex("([+-]?[0-9]+)([A-Za-z]+)?", RegexOptions.CultureInvariant)]
    private static partial Regex NumberInRange();

    /// <summary>One condition: a key (or any key) and either regular expressions on string values or a range of numbers.</summary>
    private sealed class Condition
    {
        private readonly string? _key;
        private readonly NamePattern[]? _patterns;
        private readonly Func<double, bool>? _inRange;
        private readonly string _rangeUnit;
        private readonly Dictionary<string, string> _units;

        private Condition(string? key, NamePattern[]? patterns, Func<double, bool>? inRange, string rangeUnit, Dictionary<string, string> units)
        {
            _key = key;
            _patterns = patterns;
            _inRange = inRange;
            _rangeUnit = rangeUnit;
            _units = units;
        }

        public static Condition? Parse(string option, string? text, Dictionary<string, string> units, MatchClock clock)
        {
            if (string.IsNullOrEmpty(text))
            {
                return null;
            }

            string? key = null;
            string value = text;
            int equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                key = text[..equals];
                value = text[(equals + 1)..];
            }

            if (ParseRange(option, value) is ({ } inRange, string unit))
            {
                return new Condition(key, null, inRange, unit, units);
            }

            NamePattern[] patterns = [.. value.Split(',').Select(p => NamePattern.CompileAllowingEmpty(option, p, clock))];
            return new Condition(key, patterns, null, "", units);
        }

        /// <summary>
        /// pprof's <c>parseTagFilterRange</c>: <c>N</c> (equal), <c>N:</c> (at least), <c>:N</c> (at most) or <c>N:M</c>
        /// (between, both included), each number with an optional unit, the range in the first number's unit; anything
        /// else is not a range (and is read as regular expressions).
        /// </summary>
        private static (Func<double, bool>? InRange, string Unit) ParseRange(string option, string text)
        {
            MatchCollection numbers = NumberInRange().Matches(text);
            if (numbers.Count == 0)
            {
                return (null, "");
            }

            (double low, string unit) = LabelUnits.Scale(NumberOf(option, numbers[0]), numbers[0].Groups[2].Value, numbers[0].Groups[2].Value);
            string first = numbers[0].Value;
            if (numbers.Count == 1 || text != first + ":" + numbers[1].Value)
            {
                return text == first ? ((double v) => v == low, unit)
                    : text == first + ":" ? ((double v) => v >= low, unit)
                    : text == ":" + first ? ((double v) => v <= low, unit)
                    : (null, "");
            }

            (double high, string highUnit) = LabelUnits.Scale(NumberOf(option, numbers[1]), numbers[1].Groups[2].Value, unit);
            return highUnit == unit ? ((double v) => v >= low && v <= high, unit) : (null, "");
        }

        private static long NumberOf(string option, Match number) =>
            long.TryParse(number.Groups[1].ValueSpan, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)
                ? parsed
                : PprofFormatException.Throw<long>($"{option}: the number {number.Groups[1].Value} is out of range");

        public bool Matches(ReadOnlySpan<Label> labels) => _inRange is null ? MatchesText(labels) : MatchesNumber(labels);

        /// <summary>
        /// With a key: one of its string values matches one of the expressions. Without: every expression matches
        /// <c>key:value</c> of one of the sample's string labels.
        /// </summary>
        private bool MatchesText(ReadOnlySpan<Label> labels)
        {
            if (_key is not null)
            {
                foreach (NamePattern pattern in _patterns!)
                {
                    foreach (Label label in labels)
                    {
                        if (label.IsString && label.Key == _key && pattern.IsMatch(label.Str!))
                        {
                            return true;
                        }
                    }
                }

                return false;
            }

            foreach (NamePattern pattern in _patterns!)
            {
                bool matched = false;
                foreach (Label label in labels)
                {
                    if (label.IsString && pattern.IsMatch(label.Key + ":" + label.Str))
                    {
                        matched = true;
                        break;
                    }
                }

                if (!matched)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>One of the numbers of the key (or of any key), in the key's unit, is in the range.</summary>
        private bool MatchesNumber(ReadOnlySpan<Label> labels)
        {
            foreach (Label label in labels)
            {
                if (label.IsString || (_key is not null && label.Key != _key))
                {
                    continue;
                }

                (double value, string unit) = LabelUnits.Scale(label.Num, _units.GetValueOrDefault(label.Key, ""), _rangeUnit);
                if (unit == _rangeUnit && _inRange!(value))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
