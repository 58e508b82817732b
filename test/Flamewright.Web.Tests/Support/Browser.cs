using Microsoft.Playwright;

namespace Flamewright.Web.Tests.Support;

/// <summary>
/// Headless Debian Chromium driven by Playwright, one per test, with a page on the server's UI. Screenshots
/// go to <c>screenshots/</c> beside the test assembly, kept as the run's artifacts.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    /// <summary>Debian's Chromium; CI installs it (.ci/setup).</summary>
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<Browser> OpenAsync(Uri address, int width = 1280, int height = 800, double scale = 1)
    {
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
        });
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, DeviceScaleFactor = (float)scale });
        page.SetDefaultTimeout(15_000);
        await page.GotoAsync(address.ToString());
        return new Browser(playwright, browser, page);
    }

    /// <summary>Saves the whole page, and what the window shows, as <c>screenshots/NAME.png</c> and <c>NAME.window.png</c>.</summary>
    public async Task ScreenshotAsync(string name)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".window.png") });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
