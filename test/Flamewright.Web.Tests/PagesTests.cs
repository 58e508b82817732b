using Flamewright.Protocol.Pprof;
using Flamewright.Web.Tests.Support;
using Microsoft.Playwright;

namespace Flamewright.Web.Tests;

/// <summary>The UI's pages in headless Chromium against the in-process server and a Go-like agent.</summary>
public sealed class PagesTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task A_new_server_tells_a_new_user_how_to_connect_an_agent() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);

        ILocator empty = browser.Page.Locator("#empty");
        await empty.WaitForAsync();

        Assert.Contains("flamewright agent --server", await empty.InnerTextAsync());
        await browser.ScreenshotAsync("empty-state");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_registered_instance_is_listed_under_its_service_with_its_language() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);

        ILocator services = browser.Page.Locator("#services");
        await services.WaitForAsync();

        string text = await services.InnerTextAsync();
        Assert.Contains("go-service", text);
        Assert.Contains("provider1 (GO)", text);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_created_with_the_form_shows_its_progress_live_until_it_finished_then_opens_its_flame_graph() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        IPage page = browser.Page;

        await page.ClickAsync("a.service");
        await page.SelectOptionAsync("#event", "HEAP");
        Assert.False(await page.Locator("#duration").IsVisibleAsync(), "a HEAP task has no duration");
        await page.ClickAsync("#new-task button[type=submit]");
        await page.Locator("#instances .state-PENDING").WaitForAsync();

        ReceivedTask task = (await agent.PollAsync())!;
        await page.Locator("#instances .state-NOTIFIED").WaitForAsync();
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(task.TaskId, TestData.Bytes("heap")));
        await page.Locator("#instances .state-FINISHED").WaitForAsync();

        Assert.StartsWith("Done.", await page.Locator("#task-status").InnerTextAsync());
        Assert.Contains("EXECUTION_FINISHED", await page.Locator("#logs").InnerTextAsync());
        await browser.ScreenshotAsync("task-finished");

        await page.ClickAsync("#analyse");
        await FlameGraphCanvas.DrawnAsync(page);
        Assert.Equal("inuse_space (bytes)", (await page.Locator("#sample-type option:checked").InnerTextAsync()).Trim());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_services_page_lists_its_instances_with_language_last_seen_and_properties() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync(("language", "go"), ("hostname", "host-7"));
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);

        await browser.Page.ClickAsync("a.service");
        string row = await browser.Page.Locator("#service-instances tbody tr").First.InnerTextAsync();

        Assert.Contains("provider1", row);
        Assert.Contains("GO", row);
        Assert.Contains("hostname=host-7", row);
        Assert.Contains(DateTimeOffset.FromUnixTimeMilliseconds(server.Clock.NowMilliseconds).ToLocalTime().Year.ToString(), row);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_servers_validation_reason_is_shown_next_to_its_field_and_only_timed_events_ask_for_a_duration() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        using GoLikeAgent agent = server.Agent("go-service", "provider1");
        await agent.RegisterAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        IPage page = browser.Page;
        await page.ClickAsync("a.service");

        await page.SelectOptionAsync("#event", "BLOCK");
        Assert.True(await page.Locator("#duration").IsVisibleAsync());
        Assert.True(await page.Locator("#dump-period").IsVisibleAsync());
        await page.FillAsync("#dump-period", "0");
        await page.ClickAsync("#new-task button[type=submit]");

        await Assertions.Expect(page.Locator("#dump-period-error")).ToHaveTextAsync("dumpPeriod cannot be negative");
        await page.FillAsync("#dump-period", "10");
        await page.FillAsync("#duration", "16");
        await page.ClickAsync("#new-task button[type=submit]");
        await Assertions.Expect(page.Locator("#duration-error")).ToHaveTextAsync("duration cannot be greater than 15 minutes");
        Assert.Equal("", await page.Locator("#dump-period-error").InnerTextAsync());
        await page.SelectOptionAsync("#event", "GOROUTINE");
        Assert.False(await page.Locator("#dump-period").IsVisibleAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Names_from_agents_are_shown_as_text_never_run_as_markup() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        const string Hostile = "<script>window.pwned=1</script><b id=bold>x</b>";
        using GoLikeAgent agent = server.Agent(Hostile, "<img src=x onerror=window.pwned=2>");
        await agent.RegisterAsync();
        await using Browser browser = await Browser.OpenAsync(server.HttpAddress);
        IPage page = browser.Page;

        await page.Locator("#services").WaitForAsync();

        Assert.Contains(Hostile, await page.Locator("#services").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#bold").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.pwned"));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_error_from_the_server_is_shown_as_a_message_not_a_blank_page() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, "/#/tasks/123_bm8=.1"));

        ILocator message = browser.Page.Locator("#message");
        await message.WaitForAsync();

        Assert.Equal("unknown task '123_bm8=.1'", await message.InnerTextAsync());
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_address_that_does_not_decode_is_said_so_and_the_page_still_works() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync();
        await using Browser browser = await Browser.OpenAsync(new Uri(server.HttpAddress, "/#/analysis/%E0%A4%A"));
        IPage page = browser.Page;

        ILocator message = page.Locator("#message");
        await message.WaitForAsync();
        string said = await message.InnerTextAsync();
        await page.EvaluateAsync("() => { location.hash = '#/'; }");

        Assert.Equal("URI malformed", said);
        await page.Locator("h1", new PageLocatorOptions { HasText = "Services" }).WaitForAsync();
    });
}
