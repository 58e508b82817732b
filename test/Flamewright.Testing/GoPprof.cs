using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Flamewright.Testing;

/// <summary><c>go tool pprof -top</c> on a file: the reference our analysis must agree with.</summary>
internal static partial class GoPprof
{
    /// <summary>Each function's cum% as pprof prints it (e.g. <c>85.71%</c>), for one sample type.</summary>
    public static Dictionary<string, string> CumPercents(string file, string sampleIndex)
    {
        var start = new ProcessStartInfo("go", ["tool", "pprof", "-symbolize=none", "-top", $"-sample_index={sampleIndex}", file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(file)!,
        };
        using Process pprof = Process.Start(start)!;
        Task<string> errors = pprof.StandardError.ReadToEndAsync();
        string output = pprof.StandardOutput.ReadToEnd();
        pprof.WaitForExit();
        Expect.That(pprof.ExitCode == 0, $"go tool pprof failed: {errors.Result}");
        var percents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n'))
        {
            Match row = Row().Match(line);
            if (row.Success)
            {
                string name = row.Groups[2].Value.Replace(" (inline)", "", StringComparison.Ordinal).Replace(" (partial-inline)", "", StringComparison.Ordinal);
                percents[name] = row.Groups[1].Value;
            }
        }

        return percents;
    }

    /// <summary>A percentage written as go tool pprof writes it: 100% near 100, two decimals from 1%, two significant digits below.</summary>
    public static string Percent(double ratio) =>
        Math.Abs(ratio) is >= 99.95 and <= 100.05 ? "100%"
        : Math.Abs(ratio) >= 1.0 ? ratio.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "%"
        : ratio.ToString("G2", System.Globalization.CultureInfo.InvariantCulture).Replace('E', 'e') + "%";

    [GeneratedRegex(@"^\s*\S+\s+\S+%\s+\S+%\s+\S+\s+(\S+%)\s+(.+)$")]
    private static partial Regex Row();
}
