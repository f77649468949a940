/**
 * Entry of the EMR engine's file in the runtime bundle (`engines/emr.js`): the EMR client and
 * dispatcher, loaded by the handler on first use only (cold start).
 */
import { EMRClient } from "@aws-sdk/client-emr";
import { EmrDispatcher, type EmrDispatcherProps } from "../engines/emr-dispatcher";

export function createDispatcher(
  props: Omit<EmrDispatcherProps, "client"> & { readonly client?: EMRClient },
): EmrDispatcher {
  return new EmrDispatcher({ ...props, client: props.client ?? new EMRClient({}) });
}
