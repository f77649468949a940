/**
 * Entry of the EMR Serverless engine's file in the runtime bundle (`engines/emr-serverless.js`): the
 * EMR Serverless client and dispatcher, loaded by the handler on first use only (cold start).
 */
import { EMRServerlessClient } from "@aws-sdk/client-emr-serverless";
import {
  EmrServerlessDispatcher,
  type EmrServerlessDispatcherProps,
} from "../engines/emr-serverless-dispatcher";

export function createDispatcher(
  props: Omit<EmrServerlessDispatcherProps, "client"> & { readonly client?: EMRServerlessClient },
): EmrServerlessDispatcher {
  return new EmrServerlessDispatcher({ ...props, client: props.client ?? new EMRServerlessClient({}) });
}
