using System.Globalization;

namespace Flamewright.Pprof.Export;

/// <summary>
/// How a frame name (profile text, possibly hostile) is written into an output whose characters mean something: the
/// rules in one place, for every export.
/// </summary>
internal static class FrameNameText
{
    /// <summary>
    /// A name on one line (the top table's text): line breaks become spaces, so a name cannot start a line of its own.
    /// </summary>
    public static string OneLine(string name) =>
        name.AsSpan().IndexOfAny('\r', '\n') < 0 ? name : name.Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>
    /// A name on one line that also holds no <paramref name="separator"/> (folded stacks' <c>;</c>): both become
    /// spaces, so a name cannot start a line or a frame of its own.
    /// </summary>
    public static string OneLine(string name, char separator) =>
        name.AsSpan().IndexOfAny('\r', '\n', separator) < 0 ? name : OneLine(name.Replace(separator, ' '));

    /// <summary>
    /// A name made safe to show as text (the SVG): control characters become visible <c>\xNN</c> escapes (XML 1.0
    /// cannot carry most of them, and a newline would break the tooltip's first-line-is-the-name rule the SVG's script
    /// relies on), unpaired surrogates become U+FFFD and a name past <paramref name="maxLength"/> is cut, saying so.
    /// </summary>
    public static string Printable(string name, int maxLength)
    {
        bool clean = name.Length <= maxLength;
        for (int i = 0; clean && i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (NeedsReplacement(c))
            {
                clean = false;
            }
        }

        if (clean)
        {
            return name;
        }

        var builder = new System.Text.StringBuilder(Math.Min(name.Length, maxLength) + 32);
        int kept = 0;
        for (; kept < name.Length && builder.Length < maxLength; kept++)
        {
            char c = name[kept];
            if (char.IsHighSurrogate(c) && kept + 1 < name.Length && char.IsLowSurrogate(name[kept + 1]))
            {
                builder.Append(c).Append(name[kept + 1]);
                kept++;
            }
            else if (char.IsSurrogate(c))
            {
                builder.Append('\uFFFD');
            }
            else if (NeedsReplacement(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (kept < name.Length)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({name.Length - kept:N0} more characters)");
        }

        return builder.ToString();
    }

    /// <summary>C0 and C1 controls, DEL, lone surrogates and the two non-characters XML 1.0 forbids.</summary>
    public static bool NeedsReplacement(char c) =>
        c < ' ' || (c >= '\u007f' && c <= '\u009f') || char.IsSurrogate(c) || c == '\uFFFE' || c == '\uFFFF';
}
