using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Web.Tests.Support;
using Microsoft.Playwright;

namespace Flamewright.Web.Tests;

/// <summary>The UI on a server that needs an API token: it asks once, remembers, and respects a read-only token.</summary>
public sealed class ApiTokenTests
{
    private const string Full = "ui-full-token-3f9";
    private const string Viewer = "ui-viewer-token-7d2";

    [Fact(Timeout = Spec.Timeout)]
    public Task The_UI_asks_for_the_token_refuses_a_wrong_one_and_remembers_the_right_one_until_told_to_forget_it() => Spec.Run(async () =>
    {
        await using TestServer server = await StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        IPage page = browser.Page;

        await page.Locator("#token-form").WaitForAsync();
        Assert.Equal("This server asks for an API token.", (await page.Locator("#token-reason").InnerTextAsync()).Split(" Ask")[0]);
        await page.Locator("#api-token").FillAsync("not-the-token");
        await page.Locator("#token-form button").ClickAsync();
        await page.GetByText("The server refused the stored API token.").WaitForAsync();
        await page.Locator("#api-token").FillAsync(Full);
        await page.Locator("#token-form button").ClickAsync();
        await page.Locator("#services a.service").WaitForAsync();
        await browser.ScreenshotAsync("token-accepted");

        await page.ReloadAsync();
        await page.Locator("#services a.service").WaitForAsync();
        Assert.Equal(0, await page.Locator("#token-form").CountAsync());

        await page.Locator("#forget-token").ClickAsync();
        await page.ReloadAsync();
        await page.Locator("#token-form").WaitForAsync();
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task With_the_read_only_token_the_service_page_has_no_New_task_form_and_downloads_carry_the_token() => Spec.Run(async () =>
    {
        await using TestServer server = await StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        using GraphQLClient graphql = server.GraphQL().WithToken(Full);
        string taskId = await graphql.TaskWithUploadsAsync("CPU", (agent, TestData.Bytes("cpu")));
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        IPage page = browser.Page;
        await page.Locator("#api-token").FillAsync(Viewer);
        await page.Locator("#token-form button").ClickAsync();

        await page.Locator("#services a.service").ClickAsync();
        await page.Locator("#read-only").WaitForAsync();
        Assert.Equal(0, await page.Locator("#new-task").CountAsync());

        await page.GotoAsync(new Uri(server.HttpAddress, $"/#/analysis/{Uri.EscapeDataString(taskId)}").ToString());
        await FlameGraphCanvas.DrawnAsync(page);
        IDownload download = await page.RunAndWaitForDownloadAsync(() => page.Locator("a.download-pprof").ClickAsync());
        string file = Path.Combine(Path.GetTempPath(), $"flamewright-ui-{Guid.NewGuid():N}.pb.gz");
        try
        {
            await download.SaveAsAsync(file);
            Assert.Equal(Engine.Total(TestData.Bytes("cpu"), "cpu"), FlameTreeBuilder.Build(ProfileReader.Read(await File.ReadAllBytesAsync(file))).Total);
            Assert.EndsWith(".pb.gz", download.SuggestedFilename);
        }
        finally
        {
            File.Delete(file);
        }
    });

    private static Task<TestServer> StartAsync() =>
        TestServer.StartAsync(new Dictionary<string, string> { ["ApiToken"] = Full, ["ReadOnlyApiToken"] = Viewer });
}
