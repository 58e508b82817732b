using System.Globalization;

namespace Flamewright.Testing;

/// <summary>A clock the test moves: task windows and retention are checked without waiting minutes or days.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public ManualClock()
        : this(DateTimeOffset.UtcNow)
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public long NowMilliseconds => GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// SkyWalking's <c>Duration</c> input from <paramref name="back"/> ago to now, step MINUTE, written in this
    /// clock's time zone as the UI writes it in the server's.
    /// </summary>
    public object LastMinutes(TimeSpan back)
    {
        DateTimeOffset now = TimeZoneInfo.ConvertTime(GetUtcNow(), LocalTimeZone);
        return new { start = Minute(now - back), end = Minute(now), step = "MINUTE" };
    }

    private static string Minute(DateTimeOffset time) => time.ToString("yyyy-MM-dd HHmm", CultureInfo.InvariantCulture);
}
