using System.Globalization;

namespace Flamewright.Server.Query;

/// <summary>
/// SkyWalking's <c>Duration</c> input: start and end in the server's local time, written at the precision of
/// the step, the end included to the whole step (docs/server.md).
/// </summary>
internal static class SkyWalkingDuration
{
    /// <summary>[from, to) in epoch milliseconds.</summary>
    /// <exception cref="FormatException">A time that does not match its step's format, or an unknown step.</exception>
    public static (long From, long To) ToRange(DurationInput duration, TimeZoneInfo zone)
    {
        (string format, TimeSpan step) = StepOf(duration.Step);
        long from = Parse(duration.Start, format, zone, "start");
        long to = Parse(duration.End, format, zone, "end") + (long)step.TotalMilliseconds;
        return (from, to);
    }

    private static (string Format, TimeSpan Step) StepOf(string step) => step.ToUpperInvariant() switch
    {
        "DAY" => ("yyyy-MM-dd", TimeSpan.FromDays(1)),
        "HOUR" => ("yyyy-MM-dd HH", TimeSpan.FromHours(1)),
        "MINUTE" => ("yyyy-MM-dd HHmm", TimeSpan.FromMinutes(1)),
        "SECOND" => ("yyyy-MM-dd HHmmss", TimeSpan.FromSeconds(1)),
        _ => throw new FormatException($"unknown duration step '{step}'"),
    };

    private static long Parse(string text, string format, TimeZoneInfo zone, string which)
    {
        if (!DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime local))
        {
            throw new FormatException($"duration {which} '{text}' does not match '{format}'");
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUnixTimeMilliseconds();
    }
}
