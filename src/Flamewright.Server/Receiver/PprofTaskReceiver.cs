using System.Globalization;
using Flamewright.Protocol.Common;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;
using Grpc.Core;

namespace Flamewright.Server.Receiver;

/// <summary>
/// SkyWalking's <c>PprofTask</c> service: hands tasks to Go agents and receives their profiles (docs/protocol.md,
/// "Polling for tasks" and "Uploading: collect").
/// </summary>
internal sealed class PprofTaskReceiver(TaskService tasks, UploadReceiver uploads) : PprofTask.PprofTaskBase
{
    /// <summary>The command name the Go agent looks for.</summary>
    public const string CommandName = "PprofTaskQuery";

    public override async Task<Commands> getPprofTaskCommands(PprofTaskCommandQuery request, ServerCallContext context)
    {
        AgentNames.Check(request.Service, request.ServiceInstance);
        ProfilingTask? task = await tasks.DispatchAsync(request.Service, request.ServiceInstance, request.LastCommandTime, context.CancellationToken).ConfigureAwait(false);
        var commands = new Commands();
        if (task is not null)
        {
            commands.Commands_.Add(ToCommand(task));
        }

        return commands;
    }

    public override Task collect(IAsyncStreamReader<PprofData> requestStream, IServerStreamWriter<PprofCollectionResponse> responseStream, ServerCallContext context) =>
        uploads.ReceiveAsync(requestStream, responseStream, context);

    /// <summary>The command as the Go agent reads it: these arguments, in this order, all strings.</summary>
    internal static Command ToCommand(ProfilingTask task)
    {
        var command = new Command { Command_ = CommandName };
        command.Args.Add(Arg("SerialNumber", Guid.NewGuid().ToString()));
        command.Args.Add(Arg("TaskId", task.Id));
        command.Args.Add(Arg("Events", task.Event.CommandName()));
        command.Args.Add(Arg("Duration", (task.Duration ?? 0).ToString(CultureInfo.InvariantCulture)));
        command.Args.Add(Arg("CreateTime", task.CreateTime.ToString(CultureInfo.InvariantCulture)));
        command.Args.Add(Arg("DumpPeriod", (task.DumpPeriod ?? 0).ToString(CultureInfo.InvariantCulture)));
        return command;
    }

    private static KeyStringValuePair Arg(string key, string value) => new() { Key = key, Value = value };
}
