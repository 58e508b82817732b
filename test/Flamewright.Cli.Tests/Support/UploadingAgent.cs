using Flamewright.Protocol.Pprof;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Flamewright.Cli.Tests.Support;

/// <summary>Just enough of an agent for the task-command tests: poll once, upload a profile the Go agent's way.</summary>
internal static class UploadingAgent
{
    /// <summary>Polls for the instance's next task and uploads <paramref name="profile"/> for it; returns the task id.</summary>
    public static async Task<string> TakeTaskAndUploadAsync(Uri server, string service, string instance, byte[] profile)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(server);
        var client = new PprofTask.PprofTaskClient(channel);
        var commands = await client.getPprofTaskCommandsAsync(new PprofTaskCommandQuery { Service = service, ServiceInstance = instance });
        string taskId = commands.Commands_.Single().Args.Single(a => a.Key == "TaskId").Value;
        using var call = client.collect(deadline: DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new PprofData
        {
            Metadata = new PprofMetaData
            {
                Service = service, ServiceInstance = instance, TaskId = taskId,
                Type = PprofProfilingStatus.PprofProfilingSuccess, ContentSize = profile.Length,
            },
        });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, call.ResponseStream.Current.Status);
        for (int offset = 0; offset < profile.Length; offset += 1 << 20)
        {
            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, offset, Math.Min(1 << 20, profile.Length - offset)) });
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));
        return taskId;
    }
}
