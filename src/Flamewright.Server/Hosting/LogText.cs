using System.Globalization;
using System.Text;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Text from outside (agents' names and error messages, request paths, parser messages quoting a query) made
/// safe for a log line: a terminal shows the console log, and raw ESC, CR or backspace characters in it would let
/// an agent rewrite or hide lines (<c>x\e[2K\e[1Gfake</c>). Control characters become visible escapes; a real
/// line break becomes <c>\n</c>, so that one event stays one line. A log method takes a <see cref="LogText"/>
/// for each such argument, so that passing the raw string does not compile, and the escaping is done only when
/// the line is written.
/// </summary>
public readonly struct LogText(string? text)
{
    /// <summary>The escaped text.</summary>
    public override string ToString() => Escape(text);

    /// <summary><paramref name="text"/> with every control character (C0, DEL, C1) and line or paragraph separator escaped.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        int first = IndexOfUnsafe(text);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        escaped.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (!IsUnsafe(c))
            {
                escaped.Append(c);
                continue;
            }

            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u001b' => "\\e",
                _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            });
        }

        return escaped.ToString();
    }

    private static int IndexOfUnsafe(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>C0 controls, DEL, C1 controls (a terminal reads U+009B as CSI), and the Unicode line separators.</summary>
    private static bool IsUnsafe(char c) => c < ' ' || (c >= '\u007f' && c <= '\u009f') || c is '\u2028' or '\u2029';
}
