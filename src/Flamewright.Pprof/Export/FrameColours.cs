using System.Globalization;
using System.Text.RegularExpressions;

namespace Flamewright.Pprof.Export;

/// <summary>
/// A frame's colour, one rule for every graph Flamewright draws: warm hues by the function's Go package, so that a
/// package reads as one colour across the graph. The SVG uses it; the web UI's <c>colourOf</c> (wwwroot/flame.js)
/// is its twin, held equal by a browser test, as is <c>packageOf</c>.
/// </summary>
internal static partial class FrameColours
{
    /// <summary>The CSS colour of a frame named <paramref name="name"/>: its package's, or its own name's when it has none.</summary>
    public static string Of(string name)
    {
        string package = PackageOf(name);
        string key = package.Length > 0 ? package : name;
        uint hash = 0;
        for (int i = 0; i < key.Length; i++)
        {
            // By code point, counting an astral one by its first UTF-16 unit, as the page's for…of loop does.
            hash = unchecked((uint)(((ulong)hash * 31) + key[i]));
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                i++;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"hsl({20 + (hash % 40)}, {60 + (hash % 25)}%, {58 + (hash % 12)}%)");
    }

    /// <summary>
    /// The package of a Go function name: <c>github.com/a/b.(*T).M</c> → <c>github.com/a/b</c>; a line frame's
    /// (<c>F /src/file.go:12</c>) is its function's. Type parameters in brackets may hold paths of their own, so the
    /// search stops at the first bracket or parenthesis. Empty when the name has none.
    /// </summary>
    public static string PackageOf(string name)
    {
        if (FunctionOfLine(name) is { } function)
        {
            return PackageOf(function);
        }

        int end = name.AsSpan().IndexOfAny('[', '(');
        end = end < 0 ? name.Length : end;
        int slash = end == 0 ? (name.StartsWith('/') ? 0 : -1) : name.LastIndexOf('/', end - 1);
        int dot = name.IndexOf('.', slash + 1);
        return dot > 0 && dot < end ? name[..dot] : "";
    }

    /// <summary>The function of a line frame (<c>name /path/file.go:12</c>, or a Windows path), or <c>null</c>.</summary>
    private static string? FunctionOfLine(string name)
    {
        int space = name.LastIndexOf(" /", StringComparison.Ordinal);
        if (space < 0)
        {
            Match drive = WindowsPath().Match(name);
            space = drive.Success ? drive.Index : -1;
        }

        int colon = name.LastIndexOf(':');
        if (space <= 0 || colon < space || colon + 1 == name.Length)
        {
            return null;
        }

        foreach (char c in name.AsSpan(colon + 1))
        {
            if (c is < '0' or > '9')
            {
                return null;
            }
        }

        return name[..space];
    }

    [GeneratedRegex(@" [A-Za-z]:[\\/]")]
    private static partial Regex WindowsPath();
}
