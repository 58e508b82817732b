using Flamewright.Pprof.Export;
using Flamewright.Web.Tests.Support;

namespace Flamewright.Web.Tests;

/// <summary>The page's value formatter (wwwroot/format.js) is the engine's ValueFormat.Readable, short form, in JavaScript.</summary>
public sealed class ValueFormatTwinTests
{
    private static readonly long[] Values =
    [
        0, 1, 7, 999, 1_000, 1_005, 1_500, 12_345, 999_999, 1_000_000, 1_004_999, 1_005_000, 1_234_567, 30_000_000, 999_994_999,
        1_000_000_000, 1_500_000_000, 61_230_000_000, 3_600_000_000_000, -1, -1_500, -2_500_000, 1_023, 1_024, 1_536,
        1_048_575, 1_048_576, 5_000_000_000, long.MaxValue / 1_000_000, 125, 1_125, 1_125_000,
    ];

    private static readonly string[] Units = ["nanoseconds", "microseconds", "milliseconds", "seconds", "bytes", "count", "", "objects", "NS"];

    [Fact(Timeout = Spec.Timeout)]
    public Task The_page_formats_every_value_as_the_engine_does_without_the_exact_integer() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);

        string[] page = await browser.Page.EvaluateAsync<string[]>("""
            async ([values, units]) => {
              const { formatValue } = await import('/ui/format.js');
              return units.flatMap(u => values.map(v => formatValue(v, u)));
            }
            """, new object[] { Values.Select(v => (double)v).ToArray(), Units });

        string[] engine = [.. Units.SelectMany(u => Values.Select(v => ValueFormat.Readable(v, u, exact: false)))];
        Assert.Equal(engine, page);
    });
}
