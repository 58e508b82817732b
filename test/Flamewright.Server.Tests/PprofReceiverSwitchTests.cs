using Flamewright.Server.Tests.Support;
using Grpc.Core;

namespace Flamewright.Server.Tests;

public sealed class PprofReceiverSwitchTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task With_SW_RECEIVER_PPROF_set_to_a_dash_the_pprof_service_is_not_served_but_registration_still_works() => Spec.Run(async () =>
    {
        await using TestServer server = await TestServer.StartAsync(environment: new Dictionary<string, string> { ["SW_RECEIVER_PPROF"] = "-" });
        using GoLikeAgent agent = server.Agent("go-service", "provider1");

        await agent.RegisterAsync();
        RpcException refused = await Assert.ThrowsAsync<RpcException>(agent.PollAsync);

        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
    });
}
