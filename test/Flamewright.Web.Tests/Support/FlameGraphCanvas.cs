using System.Text.Json;
using Microsoft.Playwright;

namespace Flamewright.Web.Tests.Support;

/// <summary>A frame of the analysis page's graph: its rectangle in CSS pixels from the graph's top left, and its marks.</summary>
internal sealed record DrawnFrame(
    string Id, string Name, long Total, long Self, string Label, string Kind, double X, double Y, double Width, double Height, bool Match, bool Selected, bool Focused, string? Change)
{
    public double Right => X + Width;
}

/// <summary>
/// The flame graph seen through the page's test hook (<c>window.flamewright.frames()</c>, flame.js): what is laid
/// out where, and the pointer moved to a frame's middle the way a person would. The canvas shows the rows in the
/// window; the graph (<c>#flame</c>) is as tall as all of them, so points are taken in the graph.
/// </summary>
internal static class FlameGraphCanvas
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static ILocator Canvas(IPage page) => page.Locator("#flame canvas");

    public static ILocator Graph(IPage page) => page.Locator("#flame");

    /// <summary>Waits until the page has painted a graph.</summary>
    public static Task DrawnAsync(IPage page) => page.Locator("#flame canvas[data-drawn]").WaitForAsync();

    public static async Task<DrawnFrame[]> FramesAsync(IPage page) =>
        (await page.EvaluateAsync<JsonElement>("() => window.flamewright.frames()")).Deserialize<DrawnFrame[]>(s_json)!;

    public static async Task<DrawnFrame> FrameAsync(IPage page, Func<DrawnFrame, bool> which) =>
        (await FramesAsync(page)).First(which);

    public static Task ClickAsync(IPage page, DrawnFrame frame) =>
        Graph(page).ClickAsync(new LocatorClickOptions { Position = Middle(frame) });

    /// <summary>A right click on a frame: asks for its function's callers and callees.</summary>
    public static Task RightClickAsync(IPage page, DrawnFrame frame) =>
        Graph(page).ClickAsync(new LocatorClickOptions { Position = Middle(frame), Button = MouseButton.Right });

    /// <summary>The frames of one of the sandwich's graphs: <c>callers</c> or <c>callees</c>.</summary>
    public static async Task<DrawnFrame[]> SandwichFramesAsync(IPage page, string side) =>
        (await page.EvaluateAsync<JsonElement>("side => window.flamewright.sandwich(side)", side)).Deserialize<DrawnFrame[]>(s_json)!;

    public static Task HoverAsync(IPage page, DrawnFrame frame) =>
        Graph(page).HoverAsync(new LocatorHoverOptions { Position = Middle(frame) });

    private static Position Middle(DrawnFrame frame) => new() { X = (float)(frame.X + Math.Min(frame.Width / 2, 20)), Y = (float)(frame.Y + frame.Height / 2) };
}
