using Flamewright.Pprof.Export;
using Flamewright.Web.Tests.Support;

namespace Flamewright.Web.Tests;

/// <summary>The page paints a frame in the colour the SVG gives it: flame.js's packageOf and colourOf are the engine's FrameColours.</summary>
public sealed class FrameColourTwinTests
{
    private static readonly string[] Names =
    [
        "main.main", "runtime.mallocgc", "net/http.(*conn).serve", "github.com/acme/shop/internal/checkout.(*Cart).Total",
        "example.com/m.F[go.shape.*example.com/t.T]", "noPackage", "", "/leading/slash.F", "(*T).M", "a.b.c",
        "main.work /src/app/main.go:42", "main.work C:\\src\\app\\main.go:7", "main.work /src/app/main.go:x", "héllo/wörld.Größe",
        "emoji/😀.F", "😀", "gopkg.in/yaml.v3.(*decoder).unmarshal", "[1].x", "x.[y]",
    ];

    [Fact(Timeout = Spec.Timeout)]
    public Task The_page_colours_and_groups_every_name_as_the_engine_does() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);

        string[][] page = await browser.Page.EvaluateAsync<string[][]>("""
            async names => {
              const { packageOf, colourOf } = await import('/ui/flame.js');
              return names.map(n => [packageOf(n), colourOf(n)]);
            }
            """, Names);

        string[][] engine = [.. Names.Select(n => new[] { FrameColours.PackageOf(n), FrameColours.Of(n) })];
        Assert.Equal(engine, page);
    });
}
